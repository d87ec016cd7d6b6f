package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

type maskedCustomer struct {
	Phones   []string `json:"phones"`
	Version  int      `json:"version"`
	Contacts []struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Title string `json:"title"`
		Phone string `json:"phone"`
	} `json:"contacts"`
}

// TestMaskedValuesSurviveAnAgentsUpdate: an agent sees phones masked; what
// they send back without a phone, or with the masked phone they saw, keeps
// the stored number. A number they type in full replaces it.
func TestMaskedValuesSurviveAnAgentsUpdate(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, manager := k.User("supervisor@example.com", "supervisor")
		_, agent := k.User("agent@example.com", "agent")
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: manager, Body: map[string]any{
			"type": "organization", "name": "杭州西湖电子有限公司", "phones": []string{"0571-88886666", "13912345678"},
			"contacts": []map[string]any{
				{"name": "王经理", "title": "采购", "phone": "13812345678", "primary": true},
				{"name": "李工", "title": "技术", "phone": "13712345678"},
				{"name": "赵会计", "phone": "13612345678"},
			}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var c struct {
			ID int64 `json:"id"`
		}
		r.JSON(t, &c)
		path := fmt.Sprintf("/api/v1/customers/%d", c.ID)
		var seen maskedCustomer
		k.Do(testkit.Request{Method: "GET", Path: path, Token: agent}).JSON(t, &seen)
		if len(seen.Contacts) != 3 || seen.Contacts[0].Phone != "138****5678" || seen.Phones[1] != "139****5678" {
			t.Fatalf("the agent sees %+v", seen)
		}
		// 王经理 by id without a phone (a new title); 李工 by name with the
		// masked phone; 赵会计 with a new number typed in full; a new contact.
		// The phones: the masked mobile kept, the landline left out, one added.
		r = k.Do(testkit.Request{Method: "PATCH", Path: path, Token: agent, Body: map[string]any{
			"version": seen.Version,
			"phones":  []string{seen.Phones[1], "13512345678"},
			"contacts": []map[string]any{
				{"id": seen.Contacts[0].ID, "name": "王经理", "title": "采购总监", "primary": true},
				{"name": "李工", "title": "技术", "phone": seen.Contacts[1].Phone},
				{"name": "赵会计", "phone": "13612340000"},
				{"name": "新同事"},
			}}})
		if r.Status != http.StatusOK {
			t.Fatalf("agent's update: %d %s", r.Status, r.Body)
		}
		var stored maskedCustomer
		k.Do(testkit.Request{Method: "GET", Path: path, Token: manager}).JSON(t, &stored)
		want := []string{"13812345678", "13712345678", "13612340000", ""}
		if len(stored.Contacts) != len(want) || stored.Contacts[0].Title != "采购总监" {
			t.Fatalf("stored contacts %+v", stored.Contacts)
		}
		for i, w := range want {
			if stored.Contacts[i].Phone != w {
				t.Errorf("contact %s: phone %q, want %q", stored.Contacts[i].Name, stored.Contacts[i].Phone, w)
			}
		}
		if len(stored.Phones) != 2 || stored.Phones[0] != "13912345678" || stored.Phones[1] != "13512345678" {
			t.Errorf("stored phones %q", stored.Phones)
		}
		// A masked phone that masks no stored number is bad input, naming it.
		r = k.Do(testkit.Request{Method: "PATCH", Path: path, Token: agent, Body: map[string]any{
			"contacts": []map[string]any{{"name": "王经理", "phone": "150****0000"}}}})
		if p := r.Problem(t); r.Status != http.StatusBadRequest || len(p.Errors) == 0 || p.Errors[0].Field != "contacts[0].phone" {
			t.Fatalf("unknown masked phone: %d %s", r.Status, r.Body)
		}
		// A supervisor, who sees the numbers, removes a phone by leaving it out.
		var full maskedCustomer
		k.Do(testkit.Request{Method: "GET", Path: path, Token: manager}).JSON(t, &full)
		r = k.Do(testkit.Request{Method: "PATCH", Path: path, Token: manager, Body: map[string]any{
			"contacts": []map[string]any{{"id": full.Contacts[0].ID, "name": "王经理", "primary": true}}}})
		var after maskedCustomer // fresh: JSON leaves absent fields as they were
		k.Do(testkit.Request{Method: "GET", Path: path, Token: manager}).JSON(t, &after)
		if r.Status != http.StatusOK || len(after.Contacts) != 1 || after.Contacts[0].Phone != "" {
			t.Fatalf("supervisor's update: %d %+v", r.Status, after.Contacts)
		}
	})
}
