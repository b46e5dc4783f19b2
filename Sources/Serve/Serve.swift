// Serve: `retrieve serve` without the command line. An HTTP API (JSON) and a web page over one
// opened ImageSearch, built on Hummingbird 2: search by text, by indexed or uploaded pictures
// and by their weighted combination, thumbnails by row id, index facts, health. It prints
// nothing and parses no arguments: the CLI hands it a ServeConfiguration and prints what it reports.
