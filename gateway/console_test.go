package gateway_test

// wantConsoleAccess is who may open each page of the console, written out independently of the
// server's table (TestRouteAccess walks it with wantAccess).
var wantConsoleAccess = map[string][]string{
	"GET /": {"public"},
}
