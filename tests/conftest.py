"""pytest's root conftest. tests/ is on sys.path (pyproject: `pythonpath`), so every test imports the shared
`fakes` (test backends, storyboards, songs) and `tiny_pipelines` (tiny diffusers pipelines) modules the same way."""
