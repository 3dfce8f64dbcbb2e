"""What a render writes: the H.264 writer, the MP4 with its song, per-shot files, OTIO / FCP XML / EDL, the
contact sheet and the animatic."""
