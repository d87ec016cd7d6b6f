package customers

import "testing"

func TestNameSearchKeys(t *testing.T) {
	tests := []struct {
		name                 string
		full, ini            string
		altFull, altInitials string
	}{
		{name: "张伟", full: "zhangwei", ini: "zw"},
		{name: "王芳", full: "wangfang", ini: "wf"},
		{name: " 李 娜 ", full: "lina", ini: "ln"},
		{name: "吕小鹏", full: "lvxiaopeng", ini: "lxp"},
		{name: "华为技术有限公司", full: "huaweijishuyouxiangongsi", ini: "hwjsyxgs"},
		{name: "ABC科技", full: "abckeji", ini: "abckj"},
		{name: "ＡＢＣ科技", full: "abckeji", ini: "abckj"},
		{name: "3M中国有限公司", full: "3mzhongguoyouxiangongsi", ini: "3mzgyxgs"},
		{name: "深圳市腾讯计算机系统有限公司", full: "shenzhenshitengxunjisuanjixitongyouxiangongsi", ini: "szstxjsjxtyxgs"},
		{name: "招商银行股份有限公司", full: "zhaoshangyinhanggufenyouxiangongsi", ini: "zsyhgfyxgs"},
		{name: "重庆长安汽车", full: "chongqingchanganqiche", ini: "cqcaqc"},
		{name: "长城汽车", full: "changchengqiche", ini: "ccqc"},
		{name: "成都晓风(2号店)", full: "chengduxiaofeng2haodian", ini: "cdxf2hd"},
		{name: "阿凡提·买买提", full: "afantimaimaiti", ini: "aftmmt"},
		{name: "曾国藩", full: "zengguofan", ini: "zgf", altFull: "cengguofan", altInitials: "cgf"},
		{name: "单田芳", full: "shantianfang", ini: "stf", altFull: "dantianfang", altInitials: "dtf"},
		{name: "解缙", full: "xiejin", ini: "xj", altFull: "jiejin", altInitials: "jj"},
		{name: "仇英", full: "qiuying", ini: "qy", altFull: "chouying", altInitials: "cy"},
		{name: "朴槿惠", full: "piaojinhui", ini: "pjh", altFull: "pujinhui", altInitials: "pjh"},
		{name: "区志航", full: "ouzhihang", ini: "ozh", altFull: "quzhihang", altInitials: "qzh"},
		{name: "万俟卨", full: "moqixie", ini: "mqx", altFull: "wanqixie", altInitials: "wqx"},
		{name: "尉迟恭", full: "yuchigong", ini: "ycg", altFull: "weichigong", altInitials: "wcg"},
		{name: "长孙无忌", full: "zhangsunwuji", ini: "zswj"},
		{name: "沈阳", full: "shenyang", ini: "sy"},
		{name: "IBM", full: "ibm", ini: "ibm"},
		{name: "", full: "", ini: ""},
		{name: "——", full: "", ini: ""},
	}
	for _, tt := range tests {
		k := NameSearchKeys(tt.name)
		want := NameKeys{Full: tt.full, Initials: tt.ini, AltFull: tt.altFull, AltInitials: tt.altInitials}
		if k != want {
			t.Errorf("NameSearchKeys(%q) = %+v, want %+v", tt.name, k, want)
		}
	}
}

func TestNameKeysTerms(t *testing.T) {
	for name, want := range map[string]string{
		"张伟":   "zhangwei zw",
		"曾国藩":  "zengguofan zgf cengguofan cgf",
		"朴槿惠":  "piaojinhui pjh pujinhui",
		"IBM":  "ibm",
		"":     "",
		"3M中国": "3mzhongguo 3mzg",
	} {
		if got := NameSearchKeys(name).Terms(); got != want {
			t.Errorf("Terms(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestClassifyQuery(t *testing.T) {
	tests := []struct {
		in   string
		kind QueryKind
		text string
	}{
		{"", QueryEmpty, ""},
		{"   ", QueryEmpty, ""},
		{"5678", QueryPhoneSuffix, "5678"},
		{" ５６７８ ", QueryPhoneSuffix, "5678"},
		{"202405001", QueryCustomerNumber, "202405001"},
		{"2024051000", QueryCustomerNumber, "2024051000"},
		{"202413001", QueryGeneric, "202413001"},
		{"13912345678", QueryPhone, "13912345678"},
		{"139 1234 5678", QueryPhone, "13912345678"},
		{"+86 139-1234-5678", QueryPhone, "13912345678"},
		{"010-12345678", QueryPhone, "010-12345678"},
		{"4008001234", QueryPhone, "400-800-1234"},
		{"1391234", QueryGeneric, "1391234"},
		{"123", QueryGeneric, "123"},
		{"Zhang.Wei@Example.COM", QueryEmail, "zhang.wei@example.com"},
		{"wang@qq.com ", QueryEmail, "wang@qq.com"},
		{"zhangwei", QueryPinyin, "zhangwei"},
		{"Zhang Wei", QueryPinyin, "zhangwei"},
		{"zw", QueryPinyin, "zw"},
		{"ＺＷ", QueryPinyin, "zw"},
		{"张伟", QueryName, "张伟"},
		{"  华为  技术 ", QueryName, "华为 技术"},
		{"ABC科技", QueryName, "abc科技"},
		{"A-1", QueryGeneric, "a-1"},
		{"#12", QueryGeneric, "#12"},
	}
	for _, tt := range tests {
		got := ClassifyQuery(tt.in)
		if got.Kind != tt.kind || got.Text != tt.text {
			t.Errorf("ClassifyQuery(%q) = %v %q, want %v %q", tt.in, got.Kind, got.Text, tt.kind, tt.text)
		}
	}
	if QueryPhoneSuffix.String() != "phone_suffix" || QueryKind(99).String() != "unknown" {
		t.Error("QueryKind.String")
	}
}

func TestClassifyQueryAllocs(t *testing.T) {
	for _, q := range []string{"5678", "202405001", "zhangwei", "张伟", "wang@qq.com"} {
		if n := testing.AllocsPerRun(100, func() { ClassifyQuery(q) }); n != 0 {
			t.Errorf("ClassifyQuery(%q) allocates %v times, want 0", q, n)
		}
	}
}

func BenchmarkNameSearchKeys(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NameSearchKeys("深圳市腾讯计算机系统有限公司")
		NameSearchKeys("曾国藩")
	}
}

func BenchmarkClassifyQuery(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ClassifyQuery("张伟")
		ClassifyQuery("Zhang Wei")
		ClassifyQuery("13912345678")
	}
}
