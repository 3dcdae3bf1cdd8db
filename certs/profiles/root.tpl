{
	"subject": {"commonName": {{ toJson .CommonName }}, "organization": {{ toJson .Organization }}, "country": {{ toJson .Country }}},
	"keyUsage": ["certSign", "crlSign"],
	"basicConstraints": {"isCA": true, "maxPathLen": 1}
}
