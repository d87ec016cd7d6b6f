// Package demo loads a realistic demo company: one staff account per role
// (marked as demo) and teams. Later domains add their demo data here.
// Seeding is idempotent: running it again changes nothing.
package demo

import (
	"context"
	"errors"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Password is the password of every demo account; demo accounts are marked
// as such on every page.
const Password = "careloop-demo"

// Account is a demo sign-in.
type Account struct {
	Email, Name, Role string
}

// Accounts lists the demo accounts, one per role.
var Accounts = []Account{
	{"admin@demo.careloop.cn", "管理员 王磊", "admin"},
	{"agent@demo.careloop.cn", "客服 李娜", "agent"},
	{"aftersales@demo.careloop.cn", "售后 张伟", "after_sales"},
	{"support@demo.careloop.cn", "技术支持 刘洋", "tech_support"},
	{"tech@demo.careloop.cn", "工程师 陈强", "technician"},
	{"supervisor@demo.careloop.cn", "主管 杨静", "supervisor"},
	{"quality@demo.careloop.cn", "品保 赵敏", "quality"},
	{"manager@demo.careloop.cn", "管理者代表 黄勇", "manager"},
}

// Seed creates what is missing of the demo company.
func Seed(ctx context.Context, ids *identity.Store) error {
	teams := map[string]int64{}
	existing, err := ids.ListTeams(ctx)
	if err != nil {
		return err
	}
	for _, t := range existing {
		teams[t.Name] = t.ID
	}
	for _, name := range []string{"客服组", "售后组", "技术支持组", "华东维修组"} {
		if _, ok := teams[name]; ok {
			continue
		}
		t, err := ids.CreateTeam(ctx, name)
		if err != nil {
			return err
		}
		teams[name] = t.ID
	}
	teamOf := map[string]string{"agent": "客服组", "after_sales": "售后组", "tech_support": "技术支持组", "technician": "华东维修组", "supervisor": "客服组"}
	for _, a := range Accounts {
		if _, err := ids.GetUserByEmail(ctx, a.Email); err == nil {
			continue
		} else if !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		var teamIDs []int64
		if t, ok := teamOf[a.Role]; ok {
			teamIDs = []int64{teams[t]}
		}
		if _, err := ids.CreateUser(ctx, identity.NewUser{Email: a.Email, Name: a.Name, Password: Password,
			Roles: []string{a.Role}, TeamIDs: teamIDs, Demo: true}); err != nil {
			return err
		}
	}
	return nil
}
