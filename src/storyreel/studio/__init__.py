"""storyreel studio: a local web app over the pipeline (`storyreel studio STORYBOARD.yaml`).

server (token, address) -> app (routes, token check) -> session.Studio: project (the storyboard file,
planned by the pipeline's stages 1-3), takes_state (kept takes), jobs (one worker, events), actions
(generation, animatic, render through the pipeline), sandbox (which files a request may touch),
yaml_doc (round-trip YAML, versioned atomic writes), view (the page's JSON), boundary (drags -> lengths).
The page is static/ (no build step; wavesurfer.js vendored with its licence).
"""
