package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
)

// Signature is WeChat's callback signature: the SHA-1, in hex, of its
// parts (token, timestamp, nonce; and the Encrypt field in 安全模式) sorted
// as strings and joined without separator.
func Signature(parts ...string) string {
	p := slices.Clone(parts)
	slices.Sort(p)
	sum := sha1.Sum([]byte(strings.Join(p, "")))
	return hex.EncodeToString(sum[:])
}

func sameSignature(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// errBadCipher: an Encrypt field that does not open with the account's key.
var errBadCipher = errors.New("wechat: the encrypted message does not open with the account's EncodingAESKey")

// Decrypt opens the Encrypt field of a 安全模式 message: AES-256-CBC with
// the EncodingAESKey, IV its first 16 bytes, PKCS#7 padding to 32 bytes;
// the plain text is 16 random bytes, the XML's length (4 bytes, big
// endian), the XML and the app id, which must be the account's.
func Decrypt(key []byte, appID, encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 || len(key) != 32 {
		return nil, errBadCipher
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errBadCipher
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > 32 || pad > len(plain) {
		return nil, errBadCipher
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, errBadCipher
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, errBadCipher
	}
	xml, id := plain[20:20+n], plain[20+n:]
	if subtle.ConstantTimeCompare(id, []byte(appID)) != 1 {
		return nil, errors.New("wechat: the encrypted message is for another app id")
	}
	return xml, nil
}

// Encrypt is Decrypt's inverse: what the platform sends (and what a reply
// in 安全模式 carries).
func Encrypt(key []byte, appID string, xml []byte) (string, error) {
	if len(key) != 32 {
		return "", errBadCipher
	}
	var b bytes.Buffer
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	b.Write(random)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(xml)))
	b.Write(xml)
	b.WriteString(appID)
	pad := 32 - b.Len()%32
	b.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	out := make([]byte, b.Len())
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, b.Bytes())
	return base64.StdEncoding.EncodeToString(out), nil
}
