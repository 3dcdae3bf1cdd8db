module github.com/regledger/regledger

go 1.26.8

require (
	github.com/emmansun/gmsm v0.44.1
	github.com/google/btree v1.1.3
	github.com/mr-tron/base58 v1.3.0
)

require golang.org/x/crypto v0.58.0 // indirect
