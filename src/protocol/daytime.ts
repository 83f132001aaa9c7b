/**
 * The daytime protocol (RFC 867): the date and time as a line of text. The RFC leaves the format
 * free; this is xinetd's built-in one, byte for byte (`07 DEC 2026 05:48:23 UTC` and CR LF), always
 * in UTC (xinetd uses the machine's time zone: it matches where that is UTC). Pure: the clock
 * reading is passed in.
 */

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;

/** Most bytes a daytime client reads: the RFC sets no limit, a line of text is far less. */
export const DAYTIME_MAX_BYTES = 1024;

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** The daytime line for a moment: `07 DEC 2026 05:48:23 UTC\r\n` (xinetd's format, in UTC). */
export function formatDaytime(date: Date): string {
  const month = MONTHS[date.getUTCMonth()] as string;
  return `${two(date.getUTCDate())} ${month} ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(
    date.getUTCMinutes(),
  )}:${two(date.getUTCSeconds())} UTC\r\n`;
}

/** A daytime reply as a client sees it. */
export interface DaytimeReply {
  /** The text without its line ending. */
  text: string;
  /** The moment, when the text is in xinetd's format with the zone UTC or GMT. */
  date: Date | undefined;
}

const DAYTIME_PATTERN = /^(\d{2}) ([A-Z]{3}) (\d{4,}) (\d{2}):(\d{2}):(\d{2}) (UTC|GMT)$/;

/**
 * Decodes a daytime reply: its text (line ending removed), and the moment it names when it is in
 * xinetd's format in UTC. Another format (a Unix `ctime` line, another zone) keeps only the text.
 */
export function decodeDaytime(reply: Uint8Array): DaytimeReply {
  const text = new TextDecoder().decode(reply).replace(/\r?\n$/, '');
  const match = DAYTIME_PATTERN.exec(text);
  if (match === null) return { text, date: undefined };
  const [, day, monthName, year, hours, minutes, seconds] = match;
  const month = MONTHS.indexOf(monthName as (typeof MONTHS)[number]);
  if (month === -1) return { text, date: undefined };
  const ms = Date.UTC(Number(year), month, Number(day), Number(hours), Number(minutes), Number(seconds));
  const date = new Date(ms);
  // 31 FEB would roll over into March: a date that does not round-trip is not one.
  return { text, date: formatDaytime(date) === `${text}\r\n`.replace('GMT', 'UTC') ? date : undefined };
}
