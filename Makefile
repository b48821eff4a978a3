# Set-up and tests. `make demo` and `make test` work on a clean clone with nothing installed by hand.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
CC ?= gcc
CFLAGS_TEST := -std=gnu11 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -Isrc/core
C_TESTS := $(patsubst tests/c/%.c,tests/c/bin/%,$(wildcard tests/c/test_*.c))
# Each C unit test links the interpreter-free parts it needs.
C_UNITS := src/core/leaks.c src/core/live.c src/core/stacks.c src/core/bytesampler.c src/core/sampledset.c src/core/linetable.c src/core/frames_linetable.c src/core/jsonw.c src/core/filter.c src/core/codecache.c src/core/profile.c
SMOKE_VERSIONS ?= 3.9 3.10 3.12 3.13
PACKAGE_SOURCES := pyproject.toml meson.build $(wildcard src/core/*.c src/core/*.h src/heatline/*.py src/heatline/_hook/*.py src/heatline/report/*.py src/heatline/report/assets/*)
# The memory truth tests, and the Python/native time split, again on other Pythons: memory
# reaches the allocators by routes that differ by version (pip's NumPy takes array data from
# PyMem_RawMalloc on 3.12+, from malloc before), and a shared libpython (3.12+) runs loader code
# while it runs bytecode, so a split that breaks on one of them must fail here. Each gets .venv-truth-VERSION,
# with the interpreter pyenv has for it.
TRUTH_VERSIONS ?= 3.13
TRUTH_TESTS := tests/test_memory_split.py tests/test_memory.py tests/test_accuracy.py tests/test_processes.py
TRUTH_SELECTION := split or numpy or native_buffers or python_objects or copies or copy or case_study or pure_python_line or native_time or stderr_of_fork or work_in_child_processes

.PHONY: demo install test test-c test-py test-versions smoke test-sanitize clean

$(VENV)/.installed: $(PACKAGE_SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q ".[test,views-test]"
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
	@./tests/need-browser.sh
	@./tests/need-go.sh
	$(VPY) -m pytest -q tests

smoke: install
	@./tests/smoke.sh $(SMOKE_VERSIONS)

# The engine built with ASan and UBSan into .venv-san, under the end-to-end tests of threads,
# memory, fork and API sessions (docs/testing.md).
test-sanitize:
	@PYTHON=$(PYTHON) ./tests/sanitize.sh

# The venv is made once; pip reinstalls heatline from the tree whenever a source changed.
.venv-truth-%/.installed: $(PACKAGE_SOURCES)
	@full=$$(pyenv versions --bare 2>/dev/null | grep -E '^$*(\.|$$)' | head -1); \
	if [ -z "$$full" ]; then echo "test-versions: no Python $* installed in pyenv" >&2; exit 1; fi; \
	[ -x .venv-truth-$*/bin/python ] || "$$(pyenv prefix $$full)/bin/python" -m venv .venv-truth-$*
	.venv-truth-$*/bin/python -m pip install -q ".[test]"
	touch $@

test-versions: $(foreach version,$(TRUTH_VERSIONS),.venv-truth-$(version)/.installed)
	@for version in $(TRUTH_VERSIONS); do \
		echo "== memory truth tests on Python $$version"; \
		.venv-truth-$$version/bin/python -m pytest -q $(TRUTH_TESTS) -k "$(TRUTH_SELECTION)" || exit 1; \
	done

test: test-c test-py smoke test-versions check-readme test-sanitize

.PHONY: check-readme
# The README's generated sections (demo output, benchmark tables, notes) must be what
# benchmarks/report.py makes of the recorded results; it needs only the standard library.
check-readme:
	python3 benchmarks/report.py --check

clean:
	rm -rf $(VENV) build builddir tests/c/bin .venv-smoke-* .venv-truth-* .venv-san

# make test-repeat N=10 LOAD=1: `make test` N times on a fresh clone of HEAD with LOAD busy cores.
.PHONY: test-repeat
test-repeat:
	@./tests/repeat.sh $(or $(N),10) $(or $(LOAD),1)
