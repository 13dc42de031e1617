# chapters/11-http/chapter.mk - `make serve11 PORT=P`: the cooperative
# HTTP/1.1 server in the foreground on 127.0.0.1:P (default 8000), serving
# chapter 9's demo application and this folder's static/ under /static/,
# with the access log on stderr.  Ctrl-C or SIGTERM stops it gracefully,
# with exit status 0.
#   make serve11 PORT=P CERT=FILE KEY=FILE   the same over HTTPS
#   make serve11-tls PORT=P   HTTPS with a throwaway self-signed
#                             certificate made under build/ (30 days)
PORT ?= 8000
TLS11 := $(B)/chapters/11-http/tls

.PHONY: serve11 serve11-tls
SERVE11 = $(B)/chapters/11-http/server --host 127.0.0.1 --port $(PORT) \
	  --static chapters/11-http/static --access-log

serve11: lib $(B)/chapters/11-http/server
	$(SERVE11) $(if $(CERT)$(KEY),--cert "$(CERT)" --key "$(KEY)")

# A certificate for localhost, 127.0.0.1 and ::1 that nobody signed: a
# browser warns, curl wants --cacert.  Made once, kept under build/ (for
# 30 days: remove the folder for a new one).
$(TLS11)/cert.pem:
	@mkdir -p $(TLS11)
	@openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	  -days 30 -subj /CN=localhost \
	  -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 \
	  -keyout $(TLS11)/key.pem -out $@ 2>/dev/null

serve11-tls: lib $(B)/chapters/11-http/server $(TLS11)/cert.pem
	@echo "serve11-tls: a self-signed certificate in $(TLS11)/cert.pem;" \
	  "trust it with: curl --cacert $(TLS11)/cert.pem https://localhost:$(PORT)/"
	$(SERVE11) --cert $(TLS11)/cert.pem --key $(TLS11)/key.pem
