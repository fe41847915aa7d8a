package redact_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/internal/redact"
)

func TestDSN(t *testing.T) {
	cases := []struct {
		name, in, want string
		secrets        []string // must not appear in the output
	}{
		{"url with password", "postgres://app:s3cret@db:5432/x?sslmode=require", "postgres://app:xxxxx@db:5432/x?sslmode=require", []string{"s3cret"}},
		{"url without password", "postgres://app@db/x", "postgres://app@db/x", nil},
		{"url without user", "postgres://db:5432/x?sslmode=disable", "postgres://db:5432/x?sslmode=disable", nil},
		{"password in the query", "postgres://app@db/x?password=s3cret&sslmode=disable", "postgres://app@db/x?password=xxxxx&sslmode=disable", []string{"s3cret"}},
		{"escaped characters", "postgresql://app:p%40ss%3Aw@db/x", "postgresql://app:xxxxx@db/x", []string{"p%40ss"}},
		{"unencoded spaces", "postgres://u:Gh4 spa ce Mn8@host/db", "postgres://u:xxxxx@host/db", []string{"Gh4", "spa ce", "Mn8"}},
		{"unencoded @ : / % # ?", "postgres://u:Xq7@Zz:9/Kk%2Fw#Vv?Ll@host/db", "postgres://u:xxxxx@host/db", []string{"Xq7", "Zz:9", "Kk%2Fw", "Vv?Ll"}},
		{"user with @", "postgres://user@server:Pw9secret@host/db", "postgres://user@server:xxxxx@host/db", []string{"Pw9secret"}},
		{"colon in password", "postgres://u:se:cr:et@h/db", "postgres://u:xxxxx@h/db", []string{"se:cr:et"}},
		{"empty password", "postgres://u:@h/db", "postgres://u:@h/db", nil},
		{"PASSWORD query key", "postgres://u@h/db?PASSWORD=Qk8secret&sslmode=disable", "postgres://u@h/db?PASSWORD=xxxxx&sslmode=disable", []string{"Qk8secret"}},
		{"sslpassword query key", "postgres://u@h/db?sslmode=require&sslpassword=Kp9secret", "postgres://u@h/db?sslmode=require&sslpassword=xxxxx", []string{"Kp9secret"}},
		{"percent-encoded query key", "postgres://u@h/db?pass%77ord=Ee4secret", "postgres://u@h/db?pass%77ord=xxxxx", []string{"Ee4secret"}},
		{"query value with & and no key after", "postgres://u@h/db?password=Pw&Leak9Zz", "postgres://u@h/db?password=xxxxx", []string{"Leak9Zz"}},
		{"query value with unencoded space", "postgres://u@h/db?password=ab cd9ef&sslmode=disable", "postgres://u@h/db?password=xxxxx&sslmode=disable", []string{"cd9ef"}},
		{"key=value", "host=db user=app password=s3cret dbname=x", "host=db user=app password=xxxxx dbname=x", []string{"s3cret"}},
		{"key=value with &", "host=db password=Pw&Leak9Zz dbname=x", "host=db password=xxxxx dbname=x", []string{"Leak9Zz"}},
		{"key=value quoted", "host=db password='s3 cret' dbname=x", "host=db password='xxxxx' dbname=x", []string{"s3 cret"}},
		{"key=value quoted with escapes", `host=db password='a b\'c9d' dbname=x`, `host=db password='xxxxx' dbname=x`, []string{"c9d"}},
		{"key=value escaped space", `host=db password=se\ cret9 dbname=x`, `host=db password=xxxxx dbname=x`, []string{"cret9"}},
		{"key=value unbalanced quote", "host=db password='Unbal4nced dbname=x", "host=db password=xxxxx", []string{"Unbal4nced", "dbname"}},
		{"key=value spaces around =", "host=db password = s3cret dbname=x", "host=db password = xxxxx dbname=x", []string{"s3cret"}},
		{"key=value unquoted space", "host=db password=se cret9 dbname=x", "host=db password=xxxxx dbname=x", []string{"cret9"}},
		{"key=value sslpassword", "host=db sslpassword=Kp9secret sslkey=/k.pem", "host=db sslpassword=xxxxx sslkey=/k.pem", []string{"Kp9secret"}},
		{"key=value upper case", "host=db PASSWORD=Up9secret", "host=db PASSWORD=xxxxx", []string{"Up9secret"}},
		{"any key holding password", "host=db my_Password_2=Kk7secret x_password.v1 = 'Jj7 secret' port=5", "host=db my_Password_2=xxxxx x_password.v1 = 'xxxxx' port=5", []string{"Kk7secret", "Jj7"}},
		{"query key holding password", "postgres://u@h/db?options=1&app_password=Ll8secret", "postgres://u@h/db?options=1&app_password=xxxxx", []string{"Ll8secret"}},
		{"passfile and sslkey stay", "host=db passfile=/home/u/.pgpass sslkey=/k.pem", "host=db passfile=/home/u/.pgpass sslkey=/k.pem", nil},
		{"empty", "", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := redact.DSN(c.in)
			if got != c.want {
				t.Errorf("DSN(%q) = %q, want %q", c.in, got, c.want)
			}
			for _, secret := range c.secrets {
				if strings.Contains(got, secret) {
					t.Errorf("DSN(%q) = %q still holds %q", c.in, got, secret)
				}
			}
		})
	}
}

func TestText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"url inside a message", `failed to connect to postgres://app:s3cret@db/x: refused`, `failed to connect to postgres://app:xxxxx@db/x: refused`},
		{"password= inside a message", `bad dsn "host=db password=s3cret" here`, `bad dsn "host=db password=xxxxx here`},
		{"url with spaces in backquotes", "cannot parse `postgres://u:Gh4 spa ce Mn8@host/db`: failed", "cannot parse `postgres://u:xxxxx@host/db`: failed"},
		{"pgx's partial redaction", "cannot parse `postgres://u:xxxxx@Zz:xxxxxx@host/db`: failed", "cannot parse `postgres://u:xxxxx@host/db`: failed"},
		{"two urls", "postgres://a:Pw1one@h1/d and postgres://b:Pw2two@h2/d", "postgres://a:xxxxx@h2/d"},
		{"query password", "dial postgres://u@h/db?sslmode=disable&password=Qq9secret failed", "dial postgres://u@h/db?sslmode=disable&password=xxxxx failed"},
		{"create role", "setup statement 1 (CREATE ROLE x PASSWORD 'S3cretPw'): role exists", "setup statement 1 (CREATE ROLE x PASSWORD 'xxxxx'): role exists"},
		{"alter user with encrypted", "ALTER USER x WITH ENCRYPTED PASSWORD 'S3cret''Pw' VALID UNTIL 'infinity'", "ALTER USER x WITH ENCRYPTED PASSWORD 'xxxxx' VALID UNTIL 'infinity'"},
		{"alter role lower case", "alter role x password 's3cretpw'", "alter role x password 'xxxxx'"},
		{"escape string", `ALTER ROLE x PASSWORD E'a\'b9secret'`, `ALTER ROLE x PASSWORD E'xxxxx'`},
		{"dollar quoted", "ALTER ROLE x PASSWORD $q$S3cret'Pw$q$;", "ALTER ROLE x PASSWORD $q$xxxxx$q$;"},
		{"abbreviated statement", "setup statement 1 (CREATE ROLE x PASSWORD 'S3cr…): boom", "setup statement 1 (CREATE ROLE x PASSWORD 'xxxxx"},
		{"password null", "ALTER ROLE x PASSWORD NULL", "ALTER ROLE x PASSWORD NULL"},
		// Comments between PASSWORD and its literal (valid PostgreSQL).
		{"block comment", "CREATE ROLE x PASSWORD /* c */ 'CmtSecret11'", "CREATE ROLE x PASSWORD /* c */ 'xxxxx'"},
		{"nested block comments", "ALTER ROLE x PASSWORD /* a /* b */ c */E'NestSecret12'", "ALTER ROLE x PASSWORD /* a /* b */ c */E'xxxxx'"},
		{"line comment", "CREATE ROLE x PASSWORD--c\n'DashSecret18'", "CREATE ROLE x PASSWORD--c\n'xxxxx'"},
		{"line comment flattened", "teardown statement 4 (ALTER USER m PASSWORD--c 'DashSecret18'): ERROR: x\nnext", "teardown statement 4 (ALTER USER m PASSWORD--c 'xxxxx'): ERROR: x\nnext"},
		{"no space", "CREATE ROLE x PASSWORD'NoSpace19'", "CREATE ROLE x PASSWORD'xxxxx'"},
		{"unterminated comment", "CREATE ROLE x PASSWORD /* 'Unterm20'", "CREATE ROLE x PASSWORD xxxxx"},
		// Settings whose name holds "password".
		{"set_config", "SELECT set_config('app.password', 'GucSecret22', false)", "SELECT set_config('app.password', 'xxxxx', false)"},
		{"set_config dollar", "SELECT set_config( 'my.db_password' , $$GucSecret23$$, true)", "SELECT set_config( 'my.db_password' , $$xxxxx$$, true)"},
		{"set_config other setting", "SELECT set_config('app.user', 'visible', false)", "SELECT set_config('app.user', 'visible', false)"},
		{"SET TO", "SET app.password TO 'SetSecret24'", "SET app.password TO 'xxxxx'"},
		{"SET = bare", "SET SESSION app.password = SetSecret25;", "SET SESSION app.password = xxxxx"}, // key=value reading: to the whitespace,
		{"SET quoted name", `SET LOCAL "app.password" TO SetSecret26`, `SET LOCAL "app.password" TO xxxxx`},
		{"ALTER ROLE SET", "ALTER ROLE x SET app.password TO /* c */ 'SetSecret27'", "ALTER ROLE x SET app.password TO /* c */ 'xxxxx'"},
		{"SET TO DEFAULT", "SET app.password TO DEFAULT", "SET app.password TO DEFAULT"},
		// Percent-encoded URL parameters: decoded, then masked.
		{"options encoded", "postgres://u@h/db?options=-c%20app.password%3DOptSecret31&sslmode=disable", "postgres://u@h/db?options=-c%20app.password%3Dxxxxx"}, // more, never less,
		{"options encoded twice", "postgres://u@h/db?options=-c%2520app.password%253DOptSecret32", "postgres://u@h/db?options=-c%2520app.password%253Dxxxxx"},
		{"password key encoded", "postgres://u@h/db?x=1%26password%3DOptSecret33", "postgres://u@h/db?x=1%26password%3Dxxxxx"},
		// Ordinary text is left alone.
		{"nothing to hide", "connection refused", "connection refused"},
		{"auth failure", `password authentication failed for user "app" (SQLSTATE 28P01)`, `password authentication failed for user "app" (SQLSTATE 28P01)`},
		{"hint", "check the user name and password, and the pg_hba.conf method", "check the user name and password, and the pg_hba.conf method"},
		{"url without password", "cannot reach postgres://app@db:5432/x?sslmode=disable", "cannot reach postgres://app@db:5432/x?sslmode=disable"},
		{"percent figures", "99% of acquires under 5ms", "99% of acquires under 5ms"},
		{"plain link", "see https://www.postgresql.org/docs/current/libpq-connect.html", "see https://www.postgresql.org/docs/current/libpq-connect.html"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := redact.Text(c.in); got != c.want {
				t.Errorf("Text(%q)\n = %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	cases := []struct {
		name, text, password, want string
	}{
		{"verbatim", "auth failed for password hunter22 (hunter22)", "hunter22", "auth failed for password xxxxx (xxxxx)"},
		{"url-encoded", "bad: p%40ss%3Aw0rd", "p@ss:w0rd", "bad: xxxxx"},
		{"partly encoded", "bad: p@ss%3aw0rd", "p@ss:w0rd", "bad: xxxxx"},
		{"plus for space", "bad: se+cret9", "se cret9", "bad: xxxxx"},
		{"backslash-escaped", `bad: se\ cret9`, "se cret9", "bad: xxxxx"},
		{"quoted with %q", fmt.Sprintf("bad: %q", `a\b"c9d`), `a\b"c9d`, `bad: "xxxxx"`},
		{"a piece", `missing key/value separator "=" in URI query parameter: "Leak9Zz@host/db"`, "Xq7@Zz:9/Kk%2Fw#Vv?Leak9Zz", `missing key/value separator "=" in URI query parameter: "xxxxx@host/db"`},
		{"short pieces stay", "host Zz port 9", "Xq7@Zz:9", "host Zz port 9"},
		{"too short to hide", "a b c", "a", "a b c"},
		{"no password", "connection refused", "", "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := redact.Secret(c.text, c.password); got != c.want {
				t.Errorf("Secret(%q, %q)\n = %q\nwant %q", c.text, c.password, got, c.want)
			}
		})
	}
}

func TestPasswords(t *testing.T) {
	cases := []struct {
		dsn  string
		want []string // each must be among the result
	}{
		{"postgres://u:p%40ss@h/db", []string{"p%40ss", "p@ss"}},
		{"postgres://u:Xq7@Zz:9/Kk%2Fw#Vv?Ll@host/db", []string{"Xq7@Zz:9/Kk%2Fw#Vv?Ll", "Xq7@Zz:9/Kk/w#Vv?Ll"}},
		{`host=h password=se\ cret`, []string{`se\ cret`, "se cret"}},
		{"host=h password='a b' sslpassword=kp", []string{"a b", "kp"}},
		{"postgres://u@h/db?password=a%26b", []string{"a%26b", "a&b"}},
	}
	for _, c := range cases {
		t.Run(c.dsn, func(t *testing.T) {
			got := redact.Passwords(c.dsn)
			for _, w := range c.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("Passwords(%q) = %q, missing %q", c.dsn, got, w)
				}
			}
		})
	}
	if got := redact.Passwords("postgres://u@h/db"); len(got) != 0 {
		t.Errorf("a DSN without a password gave %q", got)
	}
}

// TestPasswordsFromParsedConfig: what pgconn's parse finds is a secret too,
// including what the string does not hold (PGPASSWORD) and run-time
// parameters whose name holds "password".
func TestPasswordsFromParsedConfig(t *testing.T) {
	t.Setenv("PGPASSWORD", "Env9Secret")
	got := redact.Passwords("postgres://u@h/db?x_password_hint=Param7Secret")
	for _, want := range []string{"Env9Secret", "Param7Secret"} {
		if !slices.Contains(got, want) {
			t.Errorf("Passwords = %q, missing %q", got, want)
		}
	}
}

// TestConfigError: pgconn's parse errors are rewritten from the string as
// DSN masks it; pgconn's own text (and net/url's, which quotes the URL)
// would show parts of these passwords.
func TestConfigError(t *testing.T) {
	cases := []struct {
		dsn     string
		secrets []string
	}{
		{"postgres://u:Xq7@Zz:9/Kk%2Fw#Vv?Ll@host/db", []string{"Zz:9", "Kk%2Fw", "Vv?Ll", "Kk/w"}},
		{"postgres://u:Gh4 spa ce Mn8@host/db", []string{"spa ce", "Mn8"}},
		{"postgres://u:p%zzSecret9@h/db", []string{"Secret9"}},
		{"host=h port=notaport password=Pw&Leak9Zz", []string{"Leak9Zz"}},
		{"host=h password='Unbal4nced port=x", []string{"Unbal4nced"}},
		{"postgres://u:Aa1Secret@h:99999/db?sslpassword=Kp9Secret", []string{"Aa1Secret", "Kp9Secret"}},
	}
	for _, c := range cases {
		t.Run(c.dsn, func(t *testing.T) {
			_, err := pgconn.ParseConfig(c.dsn)
			if err == nil {
				t.Fatalf("%q parsed; the test needs a parse error", c.dsn)
			}
			msg, ok := redact.ConfigError(fmt.Errorf("target: %w", err))
			if !ok {
				t.Fatalf("ConfigError did not recognise %T", err)
			}
			if !strings.HasPrefix(msg, "invalid connection string (") {
				t.Errorf("message %q", msg)
			}
			for _, s := range c.secrets {
				if strings.Contains(msg, s) {
					t.Errorf("ConfigError = %q holds %q", msg, s)
				}
			}
		})
	}
	if _, ok := redact.ConfigError(errors.New("other")); ok {
		t.Error("ConfigError claimed an unrelated error")
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := redact.New(redact.Passwords("postgres://u:Hid3me!@h/db")...).Writer(&buf)
	n, err := fmt.Fprintf(w, "planrun: server said Hid3me%%21 and postgres://v:other99@h\n")
	if err != nil || n == 0 {
		t.Fatalf("Fprintf = %d, %v", n, err)
	}
	if got, want := buf.String(), "planrun: server said xxxxx and postgres://v:xxxxx@h\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// alphabet is what fuzzed passwords are made of: printable ASCII, with the
// characters that end URL and key=value components over-represented.
const alphabet = " @:/?#%&'\\=\"" + " @:/?#%&'\\=" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$()*+,-.;<>[]^_`{|}~"

// password maps fuzz input onto the alphabet.
func password(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return s.String()
}

// dsnForms embeds pw in connection strings the way a user might write it:
// raw (unencoded) and encoded, in URL userinfo and query, and key=value
// plain, backslash-escaped and quoted.
func dsnForms(pw string) map[string]string {
	kvEscaped := strings.NewReplacer(`\`, `\\`, " ", `\ `, "'", `\'`).Replace(pw)
	kvQuoted := strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(pw)
	return map[string]string{
		"url raw":             "postgres://app:" + pw + "@db.example:5432/app?sslmode=disable",
		"url encoded":         "postgres://app:" + url.PathEscape(pw) + "@db.example/app",
		"url user encoded":    "postgres://" + url.UserPassword("app", pw).String() + "@db/app",
		"query encoded":       "postgres://app@db/app?sslmode=disable&password=" + url.QueryEscape(pw) + "&application_name=x",
		"query PASSWORD":      "postgresql://app@db/app?PASSWORD=" + url.QueryEscape(pw),
		"query sslpassword":   "postgres://app@db/app?sslpassword=" + url.QueryEscape(pw) + "&sslmode=require",
		"kv escaped":          "host=db user=app password=" + kvEscaped + " dbname=app",
		"kv quoted":           "host=db user=app password='" + kvQuoted + "' dbname=app",
		"kv quoted last":      "host=db password='" + kvQuoted + "'",
		"kv sslpassword":      "host=db sslpassword='" + kvQuoted + "' sslmode=require",
		"kv escaped, no more": "host=db password=" + kvEscaped,
		"query options":       "postgres://app@db/app?options=" + strings.ReplaceAll(url.QueryEscape("-c app.password="+kvEscaped), "+", "%20") + "&sslmode=disable",
	}
}

// sqlForms embeds pw, as a SQL literal, in statements that set a password:
// after PASSWORD with comments between, and as the value of a setting
// whose name holds "password".
func sqlForms(pw string) map[string]string {
	lit := "'" + strings.ReplaceAll(pw, "'", "''") + "'"
	return map[string]string{
		"block comment":           "CREATE ROLE app PASSWORD /* c */ " + lit,
		"nested comment":          "ALTER ROLE app WITH PASSWORD /* a /* b */ */" + lit + " VALID UNTIL 'infinity'",
		"line comment":            "CREATE ROLE app PASSWORD--c\n" + lit,
		"line comment, flattened": "CREATE ROLE app PASSWORD--c " + lit,
		"set_config":              "SELECT set_config('app.password', " + lit + ", false)",
		"SET TO":                  "SET app.password TO " + lit,
		"ALTER ROLE SET":          "ALTER ROLE app SET my.password = " + lit,
	}
}

// holds reports whether out shows pw, not counting a mask that happens to
// spell part of it (pw "x zz" is not shown by "xxxxx zz").
func holds(out, pw string) bool {
	if strings.Contains(pw, redact.Mask) {
		return strings.Contains(out, pw)
	}
	return strings.Contains(strings.ReplaceAll(out, redact.Mask, "\x00"), pw)
}

func FuzzRedact(f *testing.F) {
	for _, seed := range []string{"CmtSecret11", "DashSecret18", "GucSecret22", "OptSecret31", "a*/b--c", "Gh4 spa ce Mn8", "Xq7@Zz:9/Kk%2Fw#Vv?Ll", "Pw&Leak9Zz", "a b'c", `se\ cret`, "S3cretPw", "%%%%", "''''", `\\\\`, "@@@@", "::::", "  x  "} {
		b := make([]byte, len(seed))
		for i := range seed {
			b[i] = byte(strings.IndexByte(alphabet, seed[i]))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pw := password(b)
		if len(pw) < redact.MinSecret || len(pw) > 64 {
			return
		}
		masked := dsnForms(redact.Mask)
		for form, dsn := range dsnForms(pw) {
			if m := masked[form]; strings.Contains(m, pw) || strings.Contains(fmt.Sprintf("cannot parse `%s`: failed to connect with %q (password %s)", m, m, redact.Mask), pw) {
				continue // the text around the password holds it ("pp p" in "app password")
			}
			if got := redact.DSN(dsn); holds(got, pw) {
				t.Fatalf("%s: DSN(%q) = %q holds the password %q", form, dsn, got, pw)
			}
			msg := fmt.Sprintf("cannot parse `%s`: failed to connect with %q (password %s)", dsn, dsn, pw)
			if got := redact.Text(fmt.Sprintf("failed: %s: refused", dsn)); holds(got, pw) && !strings.ContainsAny(pw, " \t") {
				// Text alone reads key=value values up to whitespace, as libpq
				// does; a password with a space is only safe in text through Secret.
				if strings.HasPrefix(form, "url") || strings.HasPrefix(form, "query") || strings.Contains(form, "quoted") {
					t.Fatalf("%s: Text(%q) = %q holds the password %q", form, dsn, got, pw)
				}
			}
			if got := redact.Secret(msg, pw); holds(got, pw) {
				t.Fatalf("%s: Secret(%q) = %q holds the password %q", form, msg, got, pw)
			}
			if got := redact.Secret(msg, redact.Passwords(dsn)...); holds(got, pw) {
				t.Fatalf("%s: Secret(msg, Passwords(%q)...) = %q holds the password %q", form, dsn, got, pw)
			}
		}
		maskedSQL := sqlForms(redact.Mask)
		for form, sql := range sqlForms(pw) {
			if strings.Contains("setup statement 1 ("+maskedSQL[form]+"): failed", pw) {
				continue // the statement around the password holds it
			}
			if got := redact.Text("setup statement 1 (" + sql + "): failed"); holds(got, pw) {
				t.Fatalf("%s: Text(%q) = %q holds the password %q", form, sql, got, pw)
			}
		}
	})
}

func BenchmarkTextNothingToHide(b *testing.B) {
	msg := `ERROR: duplicate key value violates unique constraint "orders_pkey" (SQLSTATE 23505)`
	b.ReportAllocs()
	for b.Loop() {
		_ = redact.Text(msg)
	}
}

func BenchmarkRedactorString(b *testing.B) {
	r := redact.New(redact.Passwords(`postgres://app:Xq7@Zz:9/Kk%2Fw#Vv?Ll@host/db?sslpassword=Sp3c%20!%40%3A%2F`)...)
	msg := `pool: open connection: failed to connect to user=app database=db: 10.0.0.1:5432 (host): server error: FATAL: too many connections for role "app" (SQLSTATE 53300)`
	b.ReportAllocs()
	for b.Loop() {
		_ = r.String(msg)
	}
}

func BenchmarkNew(b *testing.B) {
	pws := redact.Passwords(`postgres://app:Xq7@Zz:9/Kk%2Fw#Vv?Ll@host/db?sslpassword=Sp3c%20!%40%3A%2F`)
	for b.Loop() {
		_ = redact.New(pws...)
	}
}

// A run's log lines, progress line and signal messages reach one writer
// from several goroutines: each message arrives whole (run with -race).
func TestWriterIsSafeForConcurrentUse(t *testing.T) {
	var buf bytes.Buffer
	w := redact.New("s3cret").Writer(&buf)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "goroutine %d line %d password s3cret\n", g, i)
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "goroutine ") || !strings.HasSuffix(l, " password xxxxx") {
			t.Fatalf("line %q: not one whole redacted message", l)
		}
	}
}
