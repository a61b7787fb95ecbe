// How untrusted text (input values above all) appears in log lines and messages: never as a
// workflow command. The runner reads `::command::` at a line's start (after leading whitespace)
// and the legacy `##[command]` anywhere in a line (actions/runner ActionCommand.TryParseV2/TryParse).

/** Longest part of a value a message shows; longer values are cut and their length given. */
const shownCodePointLimit = 100

// Control, format (bidi overrides, zero-width), separator, private-use and unassigned characters,
// and every whitespace but the plain space: invisible or line-breaking, so always escaped.
const invisible = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u
const namedEscapes: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** The first invisible or line-breaking character of `text`, or undefined. */
export function invisibleCharacter(text: string): string | undefined {
  return invisible.exec(text)?.[0]
}

/** `\u0430`-style (or `\u{1f600}`) code of one character, for messages. */
export function codePoint(character: string): string {
  const code = character.codePointAt(0) ?? 0
  const hex = code.toString(16).padStart(4, '0')
  return code > 0xffff ? `\\u{${hex}}` : `\\u${hex}`
}

/** Breaks the legacy `##[` command prefix, which the runner finds anywhere in a line. */
function breakLegacyCommands(text: string): string {
  return text.replace(/##\[/g, '##\\[')
}

/**
 * `value` as a message shows it: in single quotes, with `\` and `'` escaped, every invisible or
 * line-breaking character as an escape (`\n`, `\t`, `\u200b`), `##[` broken up, and cut after
 * 100 characters (saying how long it was). The result is one line that cannot start or contain a
 * workflow command.
 */
export function quoted(value: string): string {
  const characters = Array.from(value)
  const shown = characters
    .slice(0, shownCodePointLimit)
    .map((character) => {
      if (character === '\\' || character === "'") return `\\${character}`
      if (!invisible.test(character)) return character
      return namedEscapes[character] ?? codePoint(character)
    })
    .join('')
  const cut = characters.length > shownCodePointLimit ? `…' (${characters.length} characters)` : "'"
  return `'${breakLegacyCommands(shown)}${cut}`
}

/**
 * `text` (possibly several lines) made safe to write to the log verbatim: a line that would start
 * a workflow command gets a `\` in front, and `##[` is broken up. Other text is unchanged.
 */
export function inert(text: string): string {
  return breakLegacyCommands(text.replace(/^(\s*)::/gm, '$1\\::'))
}
