"""The edit: camera moves, what each shot shows on screen (view), the assembled stream, and the colour grade."""
