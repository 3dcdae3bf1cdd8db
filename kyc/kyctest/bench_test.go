package kyctest_test

import (
	"testing"

	"github.com/regledger/regledger/kyc/kyctest"
)

// TestBenchOnboardSmall runs the kyc.onboard path end to end at a small size: submissions
// through the providers and a signed loopback webhook, issuance, and attestations committed by a
// real node. It checks that every onboarding completes, not how fast.
func TestBenchOnboardSmall(t *testing.T) {
	r, err := kyctest.BenchOnboard(t.Context(), kyctest.BenchConfig{Onboardings: 24, Workers: 8, RefPerRound: 30})
	if err != nil {
		t.Fatal(err)
	}
	if r.PerSec <= 0 || r.CAOnly <= 0 || r.Ratio <= 0 || r.P99 <= 0 {
		t.Fatalf("result %+v", r)
	}
}
