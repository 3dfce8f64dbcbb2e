VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/storyreel render examples/hardest-part/storyboard.yaml -o out/demo.mp4

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) out
