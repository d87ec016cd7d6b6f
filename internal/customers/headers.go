package customers

import (
	"strings"
	"unicode"
)

// Field is a customer attribute an import column can hold.
type Field uint8

// The importable fields. FieldNone marks a column Careloop does not read.
const (
	FieldNone            Field = iota
	FieldNumber                // 客户编号
	FieldName                  // 客户名称 / 单位
	FieldContact               // 联系人
	FieldPhone                 // 联系方式 / 电话 / 手机 (several columns allowed)
	FieldEmail                 // 邮箱
	FieldWeChat                // 微信
	FieldType                  // 类型: 个人 / 企业
	FieldTier                  // 等级: VIP / 普通 / 潜在
	FieldIndustry              // 所属行业
	FieldProduct               // 产品类型
	FieldIndustryProduct       // 所属行业/产品类型 (one column in the care-record template)
	FieldAddress               // 地址
	FieldBirthday              // 生日
	FieldCoopStart             // 合作开始日期
	FieldTags                  // 标签
	FieldOwner                 // 负责人 / 客户经理
	FieldRemarks               // 备注
	fieldCount
)

var fieldNames = [fieldCount]string{
	"", "number", "name", "contact", "phone", "email", "wechat", "type", "tier",
	"industry", "product", "industry_product", "address", "birthday",
	"cooperation_start", "tags", "owner", "remarks",
}

// String returns the field's snake_case name ("" for FieldNone).
func (f Field) String() string {
	if f < fieldCount {
		return fieldNames[f]
	}
	return "unknown"
}

// multiColumn says which fields may come from several columns.
func (f Field) multiColumn() bool { return f == FieldPhone }

// headerAliases maps normalised header texts (see normHeader) to fields.
// The care-record template (客户关怀记录表) has 客户编号, 客户名称/单位,
// 联系方式 and 所属行业/产品类型; its other columns (关怀日期, 关怀原因 …)
// belong to care records and are reported as unrecognised.
var headerAliases = map[string]Field{
	"客户编号": FieldNumber, "编号": FieldNumber, "客户号": FieldNumber,
	"客户编码": FieldNumber, "客户代码": FieldNumber,
	"customernumber": FieldNumber, "customerno": FieldNumber, "number": FieldNumber,
	"no": FieldNumber, "customercode": FieldNumber,

	"客户名称": FieldName, "名称": FieldName, "单位": FieldName, "客户名称/单位": FieldName,
	"单位名称": FieldName, "客户名称/单位名称": FieldName, "公司名称": FieldName,
	"公司": FieldName, "企业名称": FieldName, "客户": FieldName, "客户姓名": FieldName,
	"姓名": FieldName, "客户名": FieldName,
	"name": FieldName, "customername": FieldName, "customer": FieldName,
	"company": FieldName, "companyname": FieldName, "organisation": FieldName,
	"organization": FieldName, "customer/company": FieldName,

	"联系人": FieldContact, "联系人姓名": FieldContact, "对接人": FieldContact,
	"contact": FieldContact, "contactperson": FieldContact, "contactname": FieldContact,

	"联系方式": FieldPhone, "电话": FieldPhone, "手机": FieldPhone, "手机号": FieldPhone,
	"手机号码": FieldPhone, "联系电话": FieldPhone, "电话号码": FieldPhone, "座机": FieldPhone,
	"固话": FieldPhone, "固定电话": FieldPhone, "办公电话": FieldPhone, "移动电话": FieldPhone,
	"phone": FieldPhone, "mobile": FieldPhone, "tel": FieldPhone, "telephone": FieldPhone,
	"phonenumber": FieldPhone, "mobilephone": FieldPhone, "cellphone": FieldPhone,

	"邮箱": FieldEmail, "电子邮箱": FieldEmail, "电子邮件": FieldEmail, "邮件": FieldEmail,
	"email": FieldEmail, "mail": FieldEmail, "emailaddress": FieldEmail,

	"微信": FieldWeChat, "微信号": FieldWeChat, "wechat": FieldWeChat,
	"wechatid": FieldWeChat, "weixin": FieldWeChat,

	"类型": FieldType, "客户类型": FieldType, "客户性质": FieldType,
	"type": FieldType, "customertype": FieldType,

	"等级": FieldTier, "客户等级": FieldTier, "级别": FieldTier, "客户级别": FieldTier,
	"tier": FieldTier, "level": FieldTier, "customertier": FieldTier,

	"所属行业": FieldIndustry, "行业": FieldIndustry, "industry": FieldIndustry,

	"产品类型": FieldProduct, "产品": FieldProduct, "产品型号": FieldProduct,
	"购买产品": FieldProduct, "product": FieldProduct, "producttype": FieldProduct,
	"model": FieldProduct,

	"所属行业/产品类型": FieldIndustryProduct, "行业/产品": FieldIndustryProduct,
	"行业/产品类型": FieldIndustryProduct, "industry/product": FieldIndustryProduct,

	"地址": FieldAddress, "联系地址": FieldAddress, "通讯地址": FieldAddress,
	"详细地址": FieldAddress, "公司地址": FieldAddress, "address": FieldAddress,

	"生日": FieldBirthday, "出生日期": FieldBirthday, "出生年月日": FieldBirthday,
	"birthday": FieldBirthday, "dateofbirth": FieldBirthday, "birthdate": FieldBirthday,
	"dob": FieldBirthday,

	"合作开始日期": FieldCoopStart, "合作日期": FieldCoopStart, "开始合作日期": FieldCoopStart,
	"合作开始时间": FieldCoopStart, "合作时间": FieldCoopStart,
	"cooperationstart": FieldCoopStart, "cooperationstartdate": FieldCoopStart,
	"customersince": FieldCoopStart, "since": FieldCoopStart,

	"标签": FieldTags, "客户标签": FieldTags, "tags": FieldTags, "tag": FieldTags,
	"labels": FieldTags,

	"负责人": FieldOwner, "客户经理": FieldOwner, "专属客户经理": FieldOwner,
	"归属人": FieldOwner, "owner": FieldOwner, "accountmanager": FieldOwner,

	"备注": FieldRemarks, "说明": FieldRemarks, "备注说明": FieldRemarks,
	"remarks": FieldRemarks, "remark": FieldRemarks, "notes": FieldRemarks,
	"note": FieldRemarks, "comment": FieldRemarks, "comments": FieldRemarks,
}

// FieldForHeader returns the field a header cell names, FieldNone if none.
// It ignores case, spaces, full-width forms, required-markers (*), "_", "-",
// "." and ":" and a trailing parenthesised hint: "客户名称*",
// "联系方式（手机）", "Customer_Number", "E-mail" all match.
func FieldForHeader(text string) Field {
	return headerAliases[normHeader(text)]
}

// normHeader folds a header text for lookup in headerAliases.
func normHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	depth := 0
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case r == '(' || r == '[' || r == '【':
			depth++
		case r == ')' || r == ']' || r == '】':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case unicode.IsSpace(r), r == '*', r == '_', r == '-', r == '.', r == ':', r == '：', r == '\ufeff':
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Header is the mapping of an import file's header row.
type Header struct {
	// Row is the spreadsheet row number of the header (1 unless title rows
	// precede it).
	Row int
	// Texts are the header cells as written in the file, by column index.
	Texts []string
	// Fields are the field of each column, FieldNone when not recognised.
	Fields []Field
	// Unknown lists the non-empty header texts that name no field, in
	// column order.
	Unknown []string
	// Format is the file's format; Date1904 is the XLSX date system (dates
	// in raw XLSX cells are serial numbers).
	Format   FileFormat
	Date1904 bool
	cols     [fieldCount][]int
}

// Columns returns the column indexes that hold f, in file order.
func (h *Header) Columns(f Field) []int {
	if f >= fieldCount {
		return nil
	}
	return h.cols[f]
}

// Has reports whether some column holds f.
func (h *Header) Has(f Field) bool { return len(h.Columns(f)) > 0 }

// ColumnName returns the header text of column i as written in the file.
func (h *Header) ColumnName(i int) string {
	if i >= 0 && i < len(h.Texts) {
		return strings.TrimSpace(h.Texts[i])
	}
	return ""
}

// newHeader maps the header cells of row. It returns the columns that name
// the same single-column field twice, as pairs of texts.
func newHeader(row int, cells []string) (*Header, [][2]string) {
	h := &Header{Row: row, Texts: cells, Fields: make([]Field, len(cells))}
	var dups [][2]string
	for i, text := range cells {
		if strings.TrimSpace(text) == "" {
			continue
		}
		f := FieldForHeader(text)
		if f == FieldNone {
			h.Unknown = append(h.Unknown, strings.TrimSpace(text))
			continue
		}
		if len(h.cols[f]) > 0 && !f.multiColumn() {
			dups = append(dups, [2]string{h.ColumnName(h.cols[f][0]), h.ColumnName(i)})
			continue
		}
		h.Fields[i] = f
		h.cols[f] = append(h.cols[f], i)
	}
	return h, dups
}

// recognised counts the cells of a row that name a field.
func recognised(cells []string) int {
	n := 0
	for _, c := range cells {
		if FieldForHeader(c) != FieldNone {
			n++
		}
	}
	return n
}
