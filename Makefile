VENV ?= .venv
PY := $(VENV)/bin/python
# `make demo` needs only the plain install (the built-in model); `make test` also needs every extra
# (diffusers, Ray, C2PA), which the suite exercises. Each target has its own stamp, so a demo install is
# topped up, not redone, by `make test`.
BASE := $(VENV)/.installed-base
ALL := $(VENV)/.installed-all

.PHONY: demo test install clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(BASE): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	# invisible-watermark pins the GUI build of OpenCV (needs libGL); we use the headless one it is compatible with
	$(PY) -m pip install -q --no-deps 'invisible-watermark==0.2.0'
	touch $(BASE)

$(ALL): $(BASE)
	$(PY) -m pip install -q -e '.[all,test]'
	touch $(ALL)

install: $(ALL)

demo: $(BASE)
	$(VENV)/bin/storyreel render examples/hardest-part/storyboard.yaml -o out/demo.mp4

test: $(ALL)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) out
