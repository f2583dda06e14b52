package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/region"
)

const (
	printKey   = "c2VjcmV0IGtleSB0aGF0IG11c3Qgbm90IHByaW50IGFueXdoZXJl" // "secret key that must not print anywhere"
	printToken = "eyJhbGciOiJIUzI1NiJ9.entra-token-payload.c2lnbmF0dXJl"
	badKey     = "not-base64-but-still-a-secret!"
)

// userCredential is a Credential of a user's that keeps its token in an
// exported field.
type userCredential struct{ Token string }

func (c userCredential) Authorization(context.Context, string, string, string, string) (string, error) {
	return "type=aad&ver=1.0&sig=" + c.Token, nil
}

// printWays prints v every way a program prints a value: the fmt verbs,
// encoding/json, and log/slog's text and JSON handlers, directly and in a
// group. An error counts as printed output.
var printWays = map[string]func(v any) string{
	"json": func(v any) string {
		b, err := json.Marshal(v)
		return string(b) + errString(err)
	},
	"json indented": func(v any) string {
		b, err := json.MarshalIndent(v, "", " ")
		return string(b) + errString(err)
	},
	"slog text": func(v any) string { return logWith(slog.NewTextHandler, slog.Any("v", v)) },
	"slog json": func(v any) string { return logWith(slog.NewJSONHandler, slog.Any("v", v)) },
	"slog json group": func(v any) string {
		return logWith(slog.NewJSONHandler, slog.Group("g", slog.Any("v", v)))
	},
	"error": func(v any) string { return fmt.Errorf("transport: with %v: %w", v, errFake).Error() },
}

var errFake = fmt.Errorf("fake")

func init() {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		printWays["fmt "+verb] = func(v any) string { return fmt.Sprintf(verb, v) }
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " error: " + err.Error()
}

func logWith[H slog.Handler](newHandler func(w io.Writer, o *slog.HandlerOptions) H, a slog.Attr) string {
	var buf bytes.Buffer
	slog.New(newHandler(&buf, nil)).LogAttrs(context.Background(), slog.LevelInfo, "options", a)
	return buf.String()
}

// forbiddenPieces are what must never be seen of the key, the token and
// the bad key: each whole, their base64 pieces (4-aligned, as base64 is
// cut), and the decoded key as text, hex and decimal bytes.
func forbiddenPieces(t *testing.T) []string {
	raw, err := base64.StdEncoding.DecodeString(printKey)
	require.NoError(t, err)
	out := []string{printKey, printToken, badKey, badKey[:12], "entra-token", string(raw[:10]),
		hex.EncodeToString(raw[:8]), strings.ToUpper(hex.EncodeToString(raw[:8])),
		strings.Trim(fmt.Sprint(raw[:4]), "[]")}
	for i := 0; i+8 <= len(printKey); i += 4 {
		out = append(out, printKey[i:i+8])
	}
	return out
}

// TestSecretsNeverPrint: every exported type that can hold the account key
// or a token (Options with Key or any Credential, *region.MasterKey,
// region.TokenFunc, *Transport, and the errors made from a bad key), alone,
// through a pointer and as a field of another struct, printed every way
// printWays knows, shows no piece of the secret, while Options still show
// what they are configured with.
func TestSecretsNeverPrint(t *testing.T) {
	const endpoint = "https://contoso.documents.azure.com:443/"
	mk, err := region.NewMasterKey(printKey)
	require.NoError(t, err)
	tokenFunc := region.TokenFunc(func(context.Context) (string, error) { return printToken, nil })
	rt, err := New(Options{Endpoint: endpoint, Key: printKey})
	require.NoError(t, err)
	defer rt.Close()
	_, newErr := New(Options{Endpoint: endpoint, Key: badKey})
	_, keyErr := region.NewMasterKey(badKey)

	shown := []string{"contoso.documents.azure.com", "West US 2", "East US"}
	regions := []string{"West US 2", "East US"}
	var cases []printCase
	for name, o := range map[string]Options{
		"Key":                        {Endpoint: endpoint, Key: printKey, PreferredRegions: regions},
		"Credential *MasterKey":      {Endpoint: endpoint, Credential: mk, PreferredRegions: regions},
		"Credential TokenFunc":       {Endpoint: endpoint, Credential: tokenFunc, PreferredRegions: regions},
		"Credential of a user's":     {Endpoint: endpoint, Credential: userCredential{printToken}, PreferredRegions: regions},
		"Credential *of a user's":    {Endpoint: endpoint, Credential: &userCredential{printToken}, PreferredRegions: regions},
		"Key, Credential and a Base": {Endpoint: endpoint, Key: printKey, Credential: mk, PreferredRegions: regions, Base: &http.Transport{}},
	} {
		cases = append(cases,
			printCase{"Options with " + name, o, append(shown, "(redacted)")},
			printCase{"*Options with " + name, &o, append(shown, "(redacted)")},
			printCase{"struct with Options with " + name, struct{ Chain Options }{o}, append(shown, "(redacted)")},
			printCase{"struct with *Options with " + name, struct{ Chain *Options }{&o}, append(shown, "(redacted)")},
			printCase{"[]Options with " + name, []Options{o}, append(shown, "(redacted)")},
		)
	}
	cases = append(cases,
		// fmt cannot call Options' methods through an unexported field:
		// a *MasterKey shows only as an address there (documented).
		printCase{"unexported field with Options with a *MasterKey", struct{ o Options }{Options{Credential: mk}}, nil},
		printCase{"*MasterKey", mk, []string{"region.MasterKey(redacted)"}},
		printCase{"struct with *MasterKey", struct{ Key *region.MasterKey }{mk}, []string{"region.MasterKey(redacted)"}},
		printCase{"TokenFunc", tokenFunc, nil},
		printCase{"struct with TokenFunc", struct{ Credential region.Credential }{tokenFunc}, nil},
		printCase{"*Transport", rt, nil},
		printCase{"error of New with a bad Key", newErr, nil}, // JSON: {}
		printCase{"error of NewMasterKey with a bad key", keyErr, nil},
	)
	require.ErrorContains(t, newErr, "Options.Key")
	require.ErrorIs(t, keyErr, region.ErrBadKey)

	forbidden := forbiddenPieces(t)
	for _, c := range cases {
		for way, print := range printWays {
			out := print(c.v)
			for _, f := range forbidden {
				assert.NotContains(t, out, f, "%s printed by %s: %s", c.name, way, out)
			}
			if way == "fmt %x" || way == "fmt %X" { // the rest is hex too
				continue
			}
			for _, s := range c.shown {
				assert.Contains(t, out, s, "%s printed by %s", c.name, way)
			}
		}
	}
}

type printCase struct {
	name  string
	v     any
	shown []string // what must still show, except in hex
}

// TestOptionsPrintEveryField: the redacted copy Options print as has every
// field of Options, in order, with the same type except where it hides a
// secret or a value of the caller's (as a string); a field added to Options
// must be added there, and redacted if it can hold a secret.
func TestOptionsPrintEveryField(t *testing.T) {
	ot, pt := reflect.TypeFor[Options](), reflect.TypeFor[options]()
	require.Equal(t, ot.NumField(), pt.NumField(), "options (redact.go) must list every field of Options")
	for i := range ot.NumField() {
		of, pf := ot.Field(i), pt.Field(i)
		require.Equal(t, of.Name, pf.Name, "field %d", i)
		if of.Type.Kind() == reflect.Interface || of.Type.Kind() == reflect.Pointer || of.Name == "Key" {
			assert.Equal(t, reflect.String, pf.Type.Kind(), of.Name)
			continue
		}
		assert.Equal(t, of.Type, pf.Type, of.Name)
	}

	o := Options{Key: printKey, Credential: mk(t), Base: &http.Transport{}}
	assert.Contains(t, fmt.Sprintf("%+v", o), "Key:(redacted) Credential:*region.MasterKey(redacted)")
	assert.Contains(t, fmt.Sprintf("%+v", o), "Base:*http.Transport ")
	b, err := json.Marshal(o)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"Key":"(redacted)","Credential":"*region.MasterKey(redacted)"`)
	assert.Contains(t, fmt.Sprintf("%+v", Options{}), "Key: Credential: ", "unset, nothing to redact")
}

func mk(t *testing.T) *region.MasterKey {
	k, err := region.NewMasterKey(printKey)
	require.NoError(t, err)
	return k
}
