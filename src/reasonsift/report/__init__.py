"""Reports over run directories; ``viewer.render_viewer`` writes the static token viewer."""
