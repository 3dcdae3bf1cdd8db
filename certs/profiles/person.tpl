{
	"subject": {"commonName": {{ toJson .CommonName }}{{ if .Country }}, "country": {{ toJson .Country }}{{ end }}},
	"keyUsage": ["digitalSignature", "contentCommitment"],
	"basicConstraints": {"isCA": false},
	"crlDistributionPoints": [{{ toJson .CRLURL }}],
	"ocspServer": [{{ toJson .OCSPURL }}],
	"issuingCertificateURL": [{{ toJson .IssuerURL }}]
}
