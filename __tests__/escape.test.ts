import { describe, expect, it } from '@jest/globals'
import { codePoint, inert, invisibleCharacter, quoted } from '../src/escape.js'

describe('quoted and inert', () => {
  it.each([
    ['plain', "'plain'"],
    ['a\nb', "'a\\nb'"],
    ['\r\n::warning::x', "'\\r\\n::warning::x'"],
    ['\u0000\u202e\u200b\u00a0', "'\\u0000\\u202e\\u200b\\u00a0'"],
    ["it's \\", "'it\\'s \\\\'"],
    ['##[add-mask]x', "'##\\[add-mask]x'"],
    ['а', "'а'"],
    ['x'.repeat(101), `'${'x'.repeat(100)}…' (101 characters)`]
  ])('shows %j as %s', (value, shown) => expect(quoted(value)).toBe(shown))

  it('neutralises every line that would start a workflow command', () => {
    expect(inert('ok\n::warning::x\n  ::add-mask::y\r::error::z\u2028::debug::w ##[group]')).toBe(
      'ok\n\\::warning::x\n  \\::add-mask::y\r\\::error::z\u2028\\::debug::w ##\\[group]'
    )
    expect(inert('Waiting for x: Pending')).toBe('Waiting for x: Pending')
  })
})

describe('invisibleCharacter and codePoint', () => {
  it.each([
    ['plain text, with spaces', undefined],
    ['tab\there', '\t'],
    ['nbsp\u00a0here', '\u00a0'],
    ['bidi\u202eoverride', '\u202e'],
    ['unicode letters: пароль', undefined]
  ])('finds the first invisible character in %j', (text, found) =>
    expect(invisibleCharacter(text)).toBe(found)
  )

  it('names characters by code point', () => {
    expect(codePoint('а')).toBe('\\u0430')
    expect(codePoint('🔑')).toBe('\\u{1f511}')
  })
})
