"""pytest's root conftest: its folder (tests/) goes on sys.path, so every test imports `fakes` the same way."""
