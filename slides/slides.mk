# slides/slides.mk - the slides (included by the Makefile).
#   make slides        slides/NN-*.md -> build/slides/NN-*.html: pandoc's
#                      dzslides with the kit's style (slides/kit.css), each
#                      deck one self-contained file that works offline
#   make slides-check  every slide of every deck in headless Chromium, at
#                      1280x720 and 1024x768: fails naming each slide that
#                      overflows or is blank; a PNG of every slide in
#                      build/slides/png/ to look through
#   make slides-pdf    one PDF per deck in build/slides/pdf/ (a slide a page)
#   make slides-selftest  proof that slides-check fails on broken slides
# make deps-slides installs pandoc, Chromium and playwright-core (npm, in
# slides/check/node_modules) that drives Chromium.

SLIDE_DECKS  := $(wildcard slides/[0-9]*.md)
SLIDES       := $(patsubst slides/%.md,build/slides/%.html,$(SLIDE_DECKS))
SLIDES_TOOL  := slides/check
PLAYWRIGHT   := $(SLIDES_TOOL)/node_modules/playwright-core/package.json
# dzslides (its script moves between slides; pandoc carries it, no network),
# with the kit's style instead of its own, all in one HTML file.
SLIDES_PANDOC = pandoc -s -t dzslides --self-contained --css=slides/kit.css

.PHONY: slides slides-check slides-pdf
slides: $(SLIDES) build/slides/index.html
	@echo "slides: open build/slides/index.html (arrow keys move between slides)"

build/slides/%.html: slides/%.md slides/kit.css $(wildcard slides/img/*) slides/slides.mk
	@mkdir -p $(@D)
	@command -v pandoc >/dev/null || { echo "pandoc is missing: make deps-slides"; exit 1; }
	$(SLIDES_PANDOC) --resource-path=slides --metadata pagetitle="$*" -o $@ $<

build/slides/index.html: $(SLIDES) slides/index.sh
	@sh slides/index.sh build/slides > $@

# Chromium and playwright-core come from make deps-slides: say so rather
# than fail in node's stack trace.
slides-tools:
	@[ -x "$${CHROMIUM:-/usr/bin/chromium}" ] && command -v node >/dev/null && [ -f $(PLAYWRIGHT) ] || { \
	  echo "Chromium, node or playwright-core is missing: make deps-slides"; exit 1; }
.PHONY: slides-tools

slides-check: slides slides-tools
	@node $(SLIDES_TOOL)/check.js check build/slides

slides-pdf: slides slides-tools
	@node $(SLIDES_TOOL)/check.js pdf build/slides

# Proof that the check fails where it should: a deck of slides each broken
# one way (slides/check/broken/), and the failure each must get.
SELFTEST := build/slides-selftest
slides-selftest: $(SELFTEST)/01-broken.html slides-tools
	@sh $(SLIDES_TOOL)/selftest.sh $(SELFTEST)
$(SELFTEST)/01-broken.html: $(SLIDES_TOOL)/broken/deck.md $(wildcard $(SLIDES_TOOL)/broken/*.svg) slides/kit.css
	@mkdir -p $(@D)
	@$(SLIDES_PANDOC) --resource-path=$(SLIDES_TOOL)/broken --metadata pagetitle=broken -o $@ $<
.PHONY: slides-selftest
