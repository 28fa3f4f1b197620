import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { MAX_STUDENTS, parseRoster } from '../../core/roster.js';

const FILE = '/class/roster.csv';

function rosterError(text: string): ConfigError {
  try {
    parseRoster(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRoster', () => {
  it('reads login,name,email with or without a header line', () => {
    const body = 'jdoe,Jane Doe,jdoe@student.42.fr\nasmith\n';
    const withHeader = parseRoster(`login,name,email\n${body}`, FILE);
    const without = parseRoster(body, FILE);
    expect(without).toEqual([
      { login: 'jdoe', name: 'Jane Doe', email: 'jdoe@student.42.fr', line: 1 },
      { login: 'asmith', line: 2 },
    ]);
    expect(withHeader.map(({ line: _line, ...s }) => s)).toEqual(without.map(({ line: _line, ...s }) => s));
    expect(withHeader.map((s) => s.line)).toEqual([2, 3]);
  });

  it('follows the header\'s column order and case', () => {
    expect(parseRoster('Email,LOGIN\njdoe@student.42.fr,jdoe\n', FILE)).toEqual([{ login: 'jdoe', email: 'jdoe@student.42.fr', line: 2 }]);
  });

  it('takes a BOM, CRLF line ends, blank lines, rows of empty cells and spaces around cells', () => {
    const text = '\uFEFFlogin,name\r\n\r\n  jdoe , Jane Doe \r\n,,\r\n\r\nasmith\r\n';
    expect(parseRoster(text, FILE)).toEqual([
      { login: 'jdoe', name: 'Jane Doe', line: 3 },
      { login: 'asmith', line: 6 },
    ]);
  });

  it('keeps a quoted name that holds a comma or a quote', () => {
    expect(parseRoster('jdoe,"Doe, Jane ""JD"""\n', FILE)).toEqual([{ login: 'jdoe', name: 'Doe, Jane "JD"', line: 1 }]);
  });

  it.each([
    ['an invalid login', 'jdoe\nJohn.Smith\n', `${FILE}:2: login "John.Smith" is not valid`],
    ['a login that is a system account', 'login\nroot\n', `${FILE}:2: login "root" is a system account in the VM`],
    ['a login that names a labctl folder', 'boxes\n', `${FILE}:1: login "boxes" is the name of a labctl folder, so it cannot name a lab`],
    ['a login twice (naming both lines)', 'login,name\njdoe\n\nasmith\njdoe,Jane again\n', `${FILE}:5: login "jdoe" is also on line 2`],
    ['a line without a login', 'jdoe\n,Jane Doe\n', `${FILE}:2: has no login`],
    ['an unquoted name with a comma', 'jdoe,Doe, Jane,jdoe@student.42.fr\n', `${FILE}:1: has 4 fields, the roster has 3 (login,name,email)`],
    ['a quote left open', 'jdoe\nasmith,"Smith\n', `${FILE}:2: is not valid CSV (Quote Not Closed: the parsing is finished with an opening quote at line 2)`],
    ['a quoted name over two lines (the line it starts on)', 'jdoe\nasmith,"Smith\nAnna"\nbob\n', `${FILE}:2: name "Smith Anna" is on several lines`],
    ['an e-mail that is not one', 'jdoe,Jane,jane at 42\n', `${FILE}:1: email "jane at 42" is not an e-mail address`],
    ['a header with an unknown column', 'login,mail\njdoe,j@x.fr\n', `${FILE}:1: header column 2 "mail" is not one of login, name, email`],
    ['a header alone', 'login,name,email\n', `${FILE}: has no students`],
    ['an empty file', '', `${FILE}: has no students`],
  ])('refuses %s with the file and line', (_label, text, message) => {
    const e = rosterError(text);
    expect(e.message).toBe(message);
    expect(e.hint).toBeTruthy();
  });

  it('bounds the number of students', () => {
    const text = Array.from({ length: MAX_STUDENTS + 1 }, (_, i) => `s${i}`).join('\n');
    expect(rosterError(text).message).toBe(`${FILE}:${MAX_STUDENTS + 1}: more than ${MAX_STUDENTS} students`);
  });
});
