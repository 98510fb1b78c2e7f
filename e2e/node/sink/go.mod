module sluice.dev/e2e/sink

go 1.21
