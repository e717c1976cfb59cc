module github.com/roosthq/roost

go 1.26.0

require (
	github.com/fsnotify/fsnotify v1.10.1
	github.com/kardianos/service v1.2.4
	github.com/rogpeppe/go-internal v1.16.0
	go.uber.org/goleak v1.3.0
	go.uber.org/zap v1.28.0
	golang.org/x/sys v0.50.0
)

require (
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
