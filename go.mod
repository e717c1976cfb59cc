module github.com/roosthq/roost

go 1.26.0
