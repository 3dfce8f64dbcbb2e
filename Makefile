VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# invisible-watermark pins the GUI build of OpenCV (needs libGL); we use the headless one it is compatible with
	$(PY) -m pip install -q --no-deps 'invisible-watermark==0.2.0'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/storyreel render examples/hardest-part/storyboard.yaml -o out/demo.mp4

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) out
