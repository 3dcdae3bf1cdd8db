{
	"subject": {"commonName": {{ toJson .CommonName }}{{ if .Organization }}, "organization": {{ toJson .Organization }}{{ end }}},
	"dnsNames": {{ toJson .DNSNames }},
	"ipAddresses": {{ toJson .IPAddresses }},
	"keyUsage": ["digitalSignature"],
	"extKeyUsage": ["serverAuth", "clientAuth"],
	"basicConstraints": {"isCA": false},
	"crlDistributionPoints": [{{ toJson .CRLURL }}],
	"ocspServer": [{{ toJson .OCSPURL }}],
	"issuingCertificateURL": [{{ toJson .IssuerURL }}]
}
