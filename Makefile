# Set-up and tests. `make demo` and `make test` work on a clean clone with nothing installed by hand.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
CC ?= gcc
CFLAGS_TEST := -std=gnu11 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -Isrc/core
C_TESTS := $(patsubst tests/c/%.c,tests/c/bin/%,$(wildcard tests/c/test_*.c))
# Each C unit test links the interpreter-free parts it needs.
C_UNITS := src/core/leaks.c src/core/linetable.c src/core/frames_linetable.c src/core/jsonw.c src/core/filter.c src/core/codecache.c src/core/profile.c
SMOKE_VERSIONS ?= 3.9 3.10 3.12 3.13

.PHONY: demo install test test-c test-py smoke clean

$(VENV)/.installed: pyproject.toml meson.build $(wildcard src/core/*.c src/core/*.h src/heatline/*.py src/heatline/report/*.py)
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/heatline examples/demo.py

tests/c/bin/%: tests/c/%.c $(C_UNITS) $(wildcard src/core/*.h)
	@mkdir -p tests/c/bin
	$(CC) $(CFLAGS_TEST) -o $@ $< $(C_UNITS) -lm -lpthread

test-c: $(C_TESTS)
	@for t in $(C_TESTS); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./$$t || exit 1; done

test-py: install
	$(VPY) -m pytest -q tests

smoke: install
	@./tests/smoke.sh $(SMOKE_VERSIONS)

test: test-c test-py smoke

clean:
	rm -rf $(VENV) build builddir tests/c/bin .venv-smoke-*

# make test-repeat N=10 LOAD=1: `make test` N times on a fresh clone of HEAD with LOAD busy cores.
.PHONY: test-repeat
test-repeat:
	@./tests/repeat.sh $(or $(N),10) $(or $(LOAD),1)
