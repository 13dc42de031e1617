#!/bin/sh
# index.sh DIR - print an HTML page linking every rendered deck in DIR.
echo '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Slides</title></head><body>'
echo '<h1>gevent, retold in C: slides</h1><ul>'
for f in "$1"/[0-9]*.html; do
    [ -e "$f" ] || continue
    n=$(basename "$f")
    echo "<li><a href=\"$n\">${n%.html}</a></li>"
done
echo '</ul><p>Arrow keys move between slides.</p></body></html>'
