# Static release binaries for the platforms egressprobe's users run on.
# `make dist` writes dist/egressprobe-<os>-<arch>[.exe] and dist/SHA256SUMS.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
PLATFORMS := windows/amd64 linux/amd64 linux/arm64

.PHONY: dist clean
dist:
	@mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "building dist/egressprobe-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags '$(LDFLAGS)' \
			-o dist/egressprobe-$$os-$$arch$$ext ./cmd/egressprobe; \
	done
	@cd dist && sha256sum egressprobe-* > SHA256SUMS && cat SHA256SUMS

clean:
	rm -rf dist
