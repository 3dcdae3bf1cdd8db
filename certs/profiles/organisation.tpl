{
	"subject": {"commonName": {{ toJson .CommonName }}, "organization": {{ toJson .CommonName }}, "country": {{ toJson .Country }}},
	"keyUsage": ["digitalSignature", "contentCommitment"],
	"basicConstraints": {"isCA": false},
	"extensions": [
		{"id": "1.2.156.10260.4.4", "critical": false, "value": {{ asn1Enc (printf "printable:%s" .USCC) | toJson }}}
	],
	"crlDistributionPoints": [{{ toJson .CRLURL }}],
	"ocspServer": [{{ toJson .OCSPURL }}],
	"issuingCertificateURL": [{{ toJson .IssuerURL }}]
}
