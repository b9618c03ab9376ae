package cloudstack

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"sort"
	"strings"
	"time"
)

// javaEncode appends s encoded as Java's URLEncoder.encode(s, "UTF-8")
// does, with "+" written as "%20": A-Z a-z 0-9 . - * _ stay, every other
// byte is %XX in upper case. With keepTilde, "~" also stays (what Go's
// QueryEscape and Python's quote produce, and so what the common clients
// sign).
func javaEncode(b []byte, s string, keepTilde bool) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b = append(b, c)
		case c == '~' && keepTilde:
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// stringToSign builds CloudStack's signed string: every parameter but
// signature, sorted by name, name=encoded value joined with &, lower-cased.
func stringToSign(p Params, keepTilde bool) []byte {
	names := make([]string, 0, len(p))
	for k := range p {
		if strings.EqualFold(k, "signature") {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	b := make([]byte, 0, 256)
	for i, k := range names {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = javaEncode(b, p[k], keepTilde)
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// Sign returns the signature of params with secret, Java-encoded (what
// CloudStack itself computes).
func Sign(p Params, secret string) string {
	return sign(stringToSign(p, false), secret)
}

func sign(msg []byte, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(msg)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// verifySignature checks the request's signature against secret, in
// constant time; the variant with "~" unencoded is accepted too.
func verifySignature(p Params, secret string) bool {
	got, ok := p.getFold("signature")
	if !ok || got == "" {
		return false
	}
	if eq(sign(stringToSign(p, false), secret), got) {
		return true
	}
	for _, v := range p {
		if strings.IndexByte(v, '~') >= 0 {
			return eq(sign(stringToSign(p, true), secret), got)
		}
	}
	return false
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// expiresLayouts are the formats CloudStack accepts for expires.
var expiresLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05.000Z07:00",
	"2006-01-02T15:04:05Z-0700",
}

// maxExpires bounds how far ahead a signed request's expires may be.
// CloudStack itself only refuses an expires in the past, so a signed URL
// with expires=9999-12-31 is a credential that never lapses; the
// simulator refuses one more than a day ahead (the common clients sign
// with 10 minutes: cloudmonkey's and cs's defaults).
const maxExpires = 24 * time.Hour

// checkExpires enforces signature version 3: expires must parse, not be in
// the past and not be more than maxExpires ahead.
func checkExpires(p Params, now time.Time) bool {
	v, ok := p.getFold("signatureversion")
	if !ok || v != "3" {
		return true
	}
	e, ok := p.getFold("expires")
	if !ok {
		return false
	}
	for _, layout := range expiresLayouts {
		if t, err := time.Parse(layout, e); err == nil {
			return t.After(now) && !t.After(now.Add(maxExpires))
		}
	}
	return false
}

// SignString signs an already built, lower-cased string to sign (for
// clients and tests).
func SignString(s, secret string) string { return sign([]byte(s), secret) }
