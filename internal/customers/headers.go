package customers

import "github.com/careloop/careloop/internal/sheets"

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

// headerAliases maps header texts (as sheets.Schema.FieldFor folds them)
// to fields.
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

// customerSchema is the header matching of customer files: the aliases
// above, several phone columns, and no file without a name column.
var customerSchema = func() *sheets.Schema[Field] {
	cols := make([]sheets.Column[Field], 0, fieldCount-1)
	for f := Field(1); f < fieldCount; f++ {
		c := sheets.Column[Field]{Field: f, Multi: f.multiColumn()}
		for text, g := range headerAliases {
			if g == f {
				c.Aliases = append(c.Aliases, text)
			}
		}
		if f == FieldName {
			c.Missing = KeyImportNoNameColumn
		}
		cols = append(cols, c)
	}
	return sheets.NewSchema(cols...)
}()

// FieldForHeader returns the field a header cell names, FieldNone if none.
// It ignores case, spaces, full-width forms, required-markers (*), "_", "-",
// "." and ":" and a trailing parenthesised hint: "客户名称*",
// "联系方式（手机）", "Customer_Number", "E-mail" all match.
func FieldForHeader(text string) Field {
	return customerSchema.FieldFor(text)
}

// Header is the mapping of an import file's header row.
type Header = sheets.Header[Field]

// newHeader maps the header cells of row as OpenImport does (the row
// checks' tests build their rows with it). It returns the columns that name
// the same single-column field twice, as pairs of texts.
func newHeader(row int, cells []string) (*Header, [][2]string) {
	return customerSchema.Match(row, cells)
}
