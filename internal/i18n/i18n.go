// Package i18n holds Careloop's message catalogs (zh-CN, the default, and en)
// and translates catalog keys in a caller's language.
//
// Invariants: both catalogs have exactly the same keys (a test checks), and
// every user-visible string of the product comes from here.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var locales embed.FS

// The languages Careloop speaks; Default is used when nothing else matches.
const (
	Default = "zh-CN"
	English = "en"
)

// Languages lists the supported languages, default first.
var Languages = []string{Default, English}

// Catalog translates message keys.
type Catalog struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	matcher    language.Matcher
	keys       map[string][]string
	// plain keeps the messages translated without parameters, by language
	// and key: a page of fifty tickets asks for the same state and type
	// names hundreds of times, and go-i18n renders each anew.
	plain sync.Map
}

// Load reads the embedded catalogs.
func Load() (*Catalog, error) {
	b := goi18n.NewBundle(language.MustParse(Default))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{bundle: b, localizers: map[string]*goi18n.Localizer{}, keys: map[string][]string{}}
	for _, lang := range Languages {
		// One file per area and language (core.zh-CN.toml, calendar.en.toml…),
		// so domains keep their words beside each other's without conflicts.
		paths, err := fs.Glob(locales, "locales/*."+lang+".toml")
		if err != nil || len(paths) == 0 {
			return nil, fmt.Errorf("i18n: no catalog files for %s", lang)
		}
		for _, path := range paths {
			mf, err := b.LoadMessageFileFS(locales, path)
			if err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", path, err)
			}
			for _, m := range mf.Messages {
				c.keys[lang] = append(c.keys[lang], m.ID)
			}
		}
		sort.Strings(c.keys[lang])
		if i := duplicate(c.keys[lang]); i >= 0 {
			return nil, fmt.Errorf("i18n: key %q is defined twice for %s", c.keys[lang][i], lang)
		}
		c.localizers[lang] = goi18n.NewLocalizer(b, lang)
	}
	c.matcher = language.NewMatcher([]language.Tag{language.MustParse(Default), language.English})
	return c, nil
}

// MustLoad is Load for programs whose catalogs are embedded at build time.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Keys returns the sorted keys of a language's catalog.
func (c *Catalog) Keys(lang string) []string { return c.keys[lang] }

// Has tells whether key exists in the default catalog.
func (c *Catalog) Has(key string) bool {
	i := sort.SearchStrings(c.keys[Default], key)
	return i < len(c.keys[Default]) && c.keys[Default][i] == key
}

// T translates key into lang with params filling {{.Name}} placeholders. An
// unknown key comes back as itself, so a gap shows on screen and in tests
// rather than as an empty string.
func (c *Catalog) T(lang, key string, params map[string]any) string {
	l, ok := c.localizers[lang]
	if !ok {
		lang, l = Default, c.localizers[Default]
	}
	if params == nil {
		if s, ok := c.plain.Load(lang + "\x00" + key); ok {
			return s.(string)
		}
	}
	s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: params})
	if err != nil {
		return key
	}
	if params == nil { // only keys of the catalog: the cache is as big as it
		c.plain.Store(lang+"\x00"+key, s)
	}
	return s
}

// Match picks the supported language for an Accept-Language header.
func (c *Catalog) Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Languages[idx]
}

// Normalize returns lang if supported, else "".
func Normalize(lang string) string {
	for _, l := range Languages {
		if strings.EqualFold(l, lang) {
			return l
		}
	}
	return ""
}

// Files exposes the raw catalogs (for the completeness test).
func Files() fs.FS { return locales }

func duplicate(sorted []string) int {
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return i
		}
	}
	return -1
}
