module github.com/regledger/regledger

go 1.26.8

require (
	github.com/emmansun/gmsm v0.44.1
	github.com/google/btree v1.1.3
	github.com/mr-tron/base58 v1.3.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.47.0 // indirect
)
