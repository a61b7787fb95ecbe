import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import {
  encryptedSslModes,
  encryptedSslModesText,
  isEncryptedSslMode,
  sslModeName,
  sslModeNumbers
} from '../src/ssl-modes.js'

const actionYml = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>
}

describe('SSL modes', () => {
  it("numbers the modes as Data Factory's sslMode does (0 disable … 5 verify-full)", () => {
    expect(Object.entries(sslModeNumbers)).toEqual([
      ['disable', 0],
      ['allow', 1],
      ['prefer', 2],
      ['require', 3],
      ['verify-ca', 4],
      ['verify-full', 5]
    ])
    expect([3, 5, 9].map(sslModeName)).toEqual(['require', 'verify-full', undefined])
  })

  it('calls only require, verify-ca and verify-full encrypted', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(isEncryptedSslMode)).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
      false
    ])
    expect(encryptedSslModesText()).toBe('require, verify-ca or verify-full')
    expect(encryptedSslModesText({ numbered: true })).toBe(
      '3 require, 4 verify-ca or 5 verify-full'
    )
  })

  it("agrees with action.yml's ssl-mode description and default", () => {
    const { description, default: fallback } = actionYml.inputs['ssl-mode']
    const numbers = encryptedSslModes.map((name) => sslModeNumbers[name]).join(', ')
    expect(description).toContain(`${encryptedSslModes.join(' | ')} (sslMode ${numbers})`)
    expect(encryptedSslModes).toContain(fallback)
  })
})
