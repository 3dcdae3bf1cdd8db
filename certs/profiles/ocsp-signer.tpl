{
	"subject": {"commonName": {{ toJson .CommonName }}, "organization": {{ toJson .Organization }}, "country": {{ toJson .Country }}},
	"keyUsage": ["digitalSignature"],
	"extKeyUsage": ["ocspSigning"],
	"basicConstraints": {"isCA": false},
	"extensions": [
		{"id": "1.3.6.1.5.5.7.48.1.5", "critical": false, "value": "BQA="}
	]
}
