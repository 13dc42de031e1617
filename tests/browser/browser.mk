# tests/browser/browser.mk - the chat in a real browser (included by the
# Makefile).
#   make test-browser13          chapter 13's chat page in headless Chromium
#                                (tests/browser/chat.test.js): WebSocket,
#                                Server-Sent Events and long-polling pages
#                                talking in one room, markup shown as text,
#                                and build/browser/chat.png for the lesson
#   make test-browser13 REDIS=1  also pages on two servers (two workers
#                                each) sharing their rooms through a
#                                redis-server the test starts; REDIS=URL
#                                uses a running one instead
# The tests start the server and Chromium themselves.  Chromium, node and
# playwright-core (the slides' pin, slides/check/package.json) come from
# make deps-slides.  WAIT_MS=N bounds each wait (30000: a loaded machine is
# slow, never wrong); CHROMIUM=PATH picks another browser; run one test
# with  node --test-name-pattern=flood tests/browser/chat.test.js

CHAT_SERVER := $(B)/chapters/13-chat/server
BROWSER_NEEDS := $(if $(wildcard chapters/13-chat/server.c),$(CHAT_SERVER))

.PHONY: test-browser13 browser-tools
test-browser13: lib $(BROWSER_NEEDS) browser-tools
	@[ -n "$(BROWSER_NEEDS)" ] || { echo "chapter 13's server (chapters/13-chat/server.c) is not there yet"; exit 1; }
	@CHAT_SERVER=$(CHAT_SERVER) CHAT_REDIS=$(REDIS) \
	  node --test-reporter=spec tests/browser/chat.test.js

# Say what is missing rather than fail in node's stack trace.
browser-tools:
	@[ -x "$${CHROMIUM:-/usr/bin/chromium}" ] || { echo "Chromium is missing: make deps-slides"; exit 1; }
	@command -v node >/dev/null || { echo "node is missing: make deps-slides"; exit 1; }
	@[ -f slides/check/node_modules/playwright-core/package.json ] || { \
	  echo "playwright-core is missing (slides/check/node_modules): make deps-slides"; exit 1; }
	@[ -z "$(REDIS)" ] || [ "$(REDIS)" != 1 ] || command -v redis-server >/dev/null || { \
	  echo "redis-server is missing (REDIS=1 starts one): apt-get install redis-server"; exit 1; }
