// Go templates as Docker's CLI has them: rows of Go's text/template behaviour (its docs and
// exec tests, over decoded JSON as docker inspect's data is) and of Docker's own functions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MinictrError } from '../../../src/base/errors.js';
import { compileTemplate, renderTemplate } from '../../../src/cli/template.js';
import { formatRows } from '../../../src/cli/table.js';
import { sprintf } from '../../../src/cli/gotemplate/fmt.js';

/** What a template is run on: shaped like `docker inspect`'s documents. */
const DATA = {
  Name: '/web',
  Id: 'abcdef0123456789',
  Empty: '',
  Zero: 0,
  One: 1,
  Pi: 3.5,
  Big: 1234567.5,
  True: true,
  False: false,
  Nil: null,
  List: ['a', 'b', 'c'],
  EmptyList: [],
  Nested: [[1, 2], [3, 4]],
  Map: { two: 2, one: 1, three: 3 },
  EmptyMap: {},
  Args: ['httpd', '-f'],
  Config: { Labels: { 'com.example.team': 'web', x: 'y' }, Env: ['PATH=/bin', 'A=1'], Image: 'busybox:latest' },
  State: { Running: true, ExitCode: 0, Status: 'running', Health: null },
  NetworkSettings: {
    Networks: {
      bridge: { IPAddress: '172.18.0.2', Gateway: '172.18.0.1' },
      backend: { IPAddress: '10.1.0.5', Gateway: '10.1.0.1' },
    },
    Ports: { '5000/tcp': [{ HostIp: '0.0.0.0', HostPort: '5005' }] },
  },
  Mounts: [{ Source: '/srv', Destination: '/data', RW: true }],
};

type Row = [template: string, expected: string] | [template: string, expected: RegExp, exit: number];

const GO_ROWS: Row[] = [
  // Text, fields, dot and $
  ['plain text', 'plain text'],
  ['{{.Name}}', '/web'],
  ['{{.State.Status}}', 'running'],
  ['{{ .State.Status }}', 'running'],
  ['{{.Config.Labels.x}}', 'y'],
  ['{{.List}}', '[a b c]'],
  ['{{.Map}}', 'map[one:1 three:3 two:2]'],
  ['{{.EmptyList}} {{.EmptyMap}}', '[] map[]'],
  ['{{.Nested}}', '[[1 2] [3 4]]'],
  ['{{.Mounts}}', '[map[Destination:/data RW:true Source:/srv]]'],
  ['{{.Missing}}', '<no value>'],
  ['{{.Missing.Deeper}}', '<no value>'],
  ['{{.Nil}}', '<nil>'],
  ['{{.True}} {{.False}}', 'true false'],
  ['{{.One}} {{.Pi}} {{.Big}}', '1 3.5 1.2345675e+06'],
  ['{{with .State}}{{$.Name}} {{.Status}}{{end}}', '/web running'],
  ['{{$}}', /^map\[Args:\[httpd -f\] Big:1\.2345675e\+06 Config:map\[/, 0],
  // Literals
  ['{{"a\\tb"}}', 'a\tb'],
  ['{{`raw\\n`}}', 'raw\\n'],
  ['{{1}} {{-2}} {{0x10}} {{1.5}} {{1e3}} {{\'a\'}}', '1 -2 16 1.5 1000 97'],
  ['{{true}} {{false}}', 'true false'],
  ['{{print nil}}', '<nil>'],
  // Comments and trim markers
  ['a{{/* a comment */}}b', 'ab'],
  ['a {{- /* trimmed */ -}} b', 'ab'],
  ['x  {{- .Name -}}  y', 'x/weby'],
  ['{{.Name}}\n  {{- .State.Status}}', '/webrunning'],
  ['{{-3}}', '-3'],
  // Variables
  ['{{$x := .Name}}{{$x}}', '/web'],
  ['{{$x := 1}}{{$x = 2}}{{$x}}', '2'],
  ['{{$x := "out"}}{{range .List}}{{$x = .}}{{end}}{{$x}}', 'c'],
  ['{{with $s := .State}}{{$s.Status}}{{end}}', 'running'],
  ['{{if $r := .State.Running}}{{$r}}{{end}}', 'true'],
  ['{{$n := .NetworkSettings.Networks}}{{$n.bridge.Gateway}}', '172.18.0.1'],
  // if / else if / else
  ['{{if .True}}yes{{end}}', 'yes'],
  ['{{if .False}}yes{{else}}no{{end}}', 'no'],
  ['{{if .Empty}}a{{else if .Zero}}b{{else if .List}}c{{else}}d{{end}}', 'c'],
  ['{{if .EmptyList}}a{{else}}empty{{end}} {{if .EmptyMap}}a{{else}}empty{{end}}', 'empty empty'],
  ['{{if .Missing}}a{{else}}missing{{end}}', 'missing'],
  ['{{if .Nil}}a{{else}}nil{{end}}', 'nil'],
  // with
  ['{{with .Config}}{{.Image}}{{end}}', 'busybox:latest'],
  ['{{with .Empty}}x{{else}}none{{end}}', 'none'],
  ['{{with .State.Health}}{{.Status}}{{else}}no healthcheck{{end}}', 'no healthcheck'],
  // range
  ['{{range .List}}[{{.}}]{{end}}', '[a][b][c]'],
  ['{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}', '0=a 1=b 2=c '],
  ['{{range $e := .List}}{{$e}}{{end}}', 'abc'],
  ['{{range $k, $v := .Map}}{{$k}}:{{$v}},{{end}}', 'one:1,three:3,two:2,'],
  ['{{range .Map}}{{.}}{{end}}', '132'],
  ['{{range .EmptyList}}x{{else}}none{{end}}', 'none'],
  ['{{range .Missing}}x{{else}}none{{end}}', 'none'],
  ['{{range .Nil}}x{{else}}none{{end}}', 'none'],
  ['{{range .Nested}}{{range .}}{{.}}{{end}};{{end}}', '12;34;'],
  ['{{range .List}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', 'a'],
  ['{{range .List}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', 'ac'],
  ['{{range .List}}{{$.Name}}{{end}}', '/web/web/web'],
  ['{{range 3}}{{.}}{{end}}', '012'],
  // Pipelines and parentheses
  ['{{.Name | printf "%s!"}}', '/web!'],
  ['{{"x" | printf "%s-%s" "y"}}', 'y-x'],
  ['{{.List | len}}', '3'],
  ['{{(index .List 1) | printf "<%s>"}}', '<b>'],
  ['{{(.State).Status}}', 'running'],
  ['{{printf "%d" (len .List)}}', '3'],
  // Comparisons and logic
  ['{{eq .State.ExitCode 0}}', 'true'],
  ['{{eq .Name "/db" "/web"}}', 'true'],
  ['{{ne .Name "/web"}}', 'false'],
  ['{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 1 2}}', 'true true false false'],
  ['{{lt "a" "b"}}', 'true'],
  ['{{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}}', '0 2 x '],
  ['{{not .True}} {{not .Empty}}', 'false true'],
  ['{{if and .State.Running (eq .State.ExitCode 0)}}ok{{end}}', 'ok'],
  ['{{and .False .Missing.x}}', 'false'],
  // len, index, slice
  ['{{len .Map}} {{len "héllo"}}', '3 6'],
  ['{{index .List 2}}', 'c'],
  ['{{index .Nested 1 0}}', '3'],
  ['{{index .Map "two"}}', '2'],
  ['{{index .Config.Labels "com.example.team"}}', 'web'],
  ['{{index .Config.Labels "nope"}}', '<no value>'],
  ['{{(index (index .NetworkSettings.Ports "5000/tcp") 0).HostPort}}', '5005'],
  ['{{slice .List 1}} {{slice .List 1 2}} {{slice "abcdef" 2 4}}', '[b c] [b] cd'],
  // print, println, printf
  ['{{print "a" 1 2 "b"}}', 'a1 2b'],
  ['{{println "a" 1}}', 'a 1\n'],
  ['{{printf "%s:%d" .Name 5005}}', '/web:5005'],
  ['{{printf "%v %v" .List .Map}}', '[a b c] map[one:1 three:3 two:2]'],
  ['{{printf "%q %t %x %X %o %b" "hi" true 255 255 8 5}}', '"hi" true ff FF 10 101'],
  ['{{printf "|%5s|%-5s|%05d|%+d|" "ab" "ab" 42 7}}', '|   ab|ab   |00042|+7|'],
  ['{{printf "%.2f %8.3f %e %g" 3.14159 2.5 1234.5678 0.00001}}', '3.14    2.500 1.234568e+03 1e-05'],
  ['{{printf "%d"}}', '%!d(MISSING)'],
  ['{{printf "%d" "x"}}', '%!d(string=x)'],
  ['{{printf "%s" 1 2}}', '%!s(int=1)%!(EXTRA int=2)'],
  ['{{printf "%%"}}', '%'],
  ['{{printf "%T %T %T" 1 "s" .List}}', 'int string []interface {}'],
  // html, js, urlquery
  ['{{html "<a href=\'x\'>&</a>"}}', '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;'],
  ['{{js "it\'s <b>"}}', 'it\\\'s \\u003Cb\\u003E'],
  ['{{urlquery "a b&c=d"}}', 'a+b%26c%3Dd'],
  // Parse errors: Go's messages, exit 64
  ['{{.Name', /^template parsing error: template: :1: unclosed action$/, 64],
  ['{{.Name }', /^template parsing error: template: :1: unexpected "}" in operand$/, 64],
  ['{{.Name}', /bad character U\+007D '\}'/, 64],
  ['{{if .True}}x', /unexpected EOF/, 64],
  ['{{end}}', /unexpected \{\{end\}\}/, 64],
  ['{{else}}', /unexpected \{\{else\}\}/, 64],
  ['{{nosuch .Name}}', /function "nosuch" not defined/, 64],
  ['{{$undefined}}', /undefined variable "\$undefined"/, 64],
  ['{{if}}{{end}}', /missing value for if/, 64],
  ['{{}}', /missing value for command/, 64],
  ['{{break}}', /\{\{break\}\} outside \{\{range\}\}/, 64],
  ['{{range $a, $b, $c := .List}}{{end}}', /too many declarations in range/, 64],
  ['{{/* unclosed', /unclosed comment/, 64],
  ['{{"open}}', /unterminated quoted string/, 64],
  ['{{(.Name}}', /unclosed left paren/, 64],
  ['{{.Name | "x"}}', /non executable command in pipeline stage 2/, 64],
  ['{{"x".Y}}', /unexpected \. after term "\\"x\\""/, 64],
  ['line one\n{{.A}\n', /^template parsing error: template: :2: /, 64],
  // Execution errors: Go's context, exit 1
  ['{{index .List 5}}', /^template: :1:2: executing "" at <index .List 5>: error calling index: index out of range: 5$/, 1],
  ['{{.Name.Foo}}', /^template: :1:2: executing "" at <\.Name\.Foo>: can't evaluate field Foo in type string$/, 1],
  ['x\n {{.List.Foo}}', /^template: :2:3: executing "" at <\.List\.Foo>/, 1],
  ['{{index .Map 1}}', /error calling index: value has type int; should be string/, 1],
  ['{{len .One}}', /error calling len: len of type int/, 1],
  ['{{eq .List .List}}', /error calling eq: uncomparable type/, 1],
  ['{{eq .Name 1}}', /error calling eq: incompatible types for comparison/, 1],
  ['{{upper .One}}', /error calling upper: wrong type for value; expected string; got int/, 1],
  ['{{upper "a" "b"}}', /wrong number of args for upper: want 1 got 2/, 1],
  ['{{.Name 1}}', /can't give argument to non-function|Name is not a method but has arguments/, 1],
  ['{{range .Name}}{{end}}', /range can't iterate over \/web/, 1],
  ['{{nil}}', /nil is not a command/, 1],
];

const DOCKER_ROWS: Row[] = [
  // The motivating example (#17)
  ['{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', '10.1.0.5172.18.0.2'],
  ['{{range $name, $n := .NetworkSettings.Networks}}{{$name}}={{$n.IPAddress}} {{end}}', 'backend=10.1.0.5 bridge=172.18.0.2 '],
  ['{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}', '5000/tcp -> 5005'],
  ['{{json .Config.Labels}}', '{"com.example.team":"web","x":"y"}'],
  ['{{json .State.Running}} {{json .Name}} {{json .Nil}} {{json .Missing}}', 'true "/web" null null'],
  ['{{json .Args}}', '["httpd","-f"]'],
  ['{{json "<&>"}}', '"<&>"'],
  ['{{join .Args " "}}', 'httpd -f'],
  ['{{join .Config.Env ","}}', 'PATH=/bin,A=1'],
  ['{{split .Config.Image ":"}}', '[busybox latest]'],
  ['{{index (split .Config.Image ":") 0}}', 'busybox'],
  ['{{upper .State.Status}} {{lower "MiXeD"}}', 'RUNNING mixed'],
  ['{{title "hello docker world"}} {{title "a-b_c"}}', 'Hello Docker World A-B_c'],
  ['{{.Name | upper}}', '/WEB'],
  ['{{truncate .Id 12}} {{truncate "ab" 5}}', 'abcdef012345 ab'],
  ['[{{pad .Name 2 1}}][{{pad .Empty 2 2}}]', '[  /web ][]'],
  ['{{index .Config.Labels "x"}}', 'y'],
  ['{{printf "%s:%d" .Config.Image .State.ExitCode}}', 'busybox:latest:0'],
  ['{{if eq .State.Status "running"}}up{{else}}down{{end}}', 'up'],
  ['{{range .Mounts}}{{.Source}}:{{.Destination}}{{if not .RW}}:ro{{end}}{{end}}', '/srv:/data'],
  ['{{range .Config.Env}}{{println .}}{{end}}', 'PATH=/bin\nA=1\n'],
  // Docker's CLI turns a literal \t and \n in the text into a tab and a newline
  ['{{.Name}}\\t{{.Id}}\\n', '/web\tabcdef0123456789\n'],
];

function check([template, expected, exit]: Row): void {
  if (typeof expected === 'string') {
    assert.equal(renderTemplate(template, DATA), expected, template);
    return;
  }
  if (exit === 0) {
    assert.match(renderTemplate(template, DATA), expected, template);
    return;
  }
  assert.throws(() => renderTemplate(template, DATA), (err: unknown) => {
    assert.ok(err instanceof MinictrError, template);
    assert.match(err.message, expected, template);
    assert.equal(err.exitCode, exit, `${template}: exit code`);
    assert.ok(!err.message.includes('\n') || template.includes('\n'), `${template}: one line`);
    return true;
  });
}

describe("Go's text/template", () => {
  for (const row of GO_ROWS) it(JSON.stringify(row[0]), () => check(row));
});

describe("Docker's functions and --format habits", () => {
  for (const row of DOCKER_ROWS) it(JSON.stringify(row[0]), () => check(row));
});

describe('templates in tables and commands', () => {
  it('a parse error is found before any data: compileTemplate throws exit 64', () => {
    assert.throws(() => compileTemplate('{{range .X}}'), (err: unknown) => err instanceof MinictrError && err.exitCode === 64 && /unexpected EOF/.test(err.message));
    const t = compileTemplate('{{.Name}}');
    assert.equal(t.execute({ Name: 'a' }), 'a');
    assert.equal(t.execute({ Name: 'b' }), 'b');
  });

  it('`table` renders the header row with Docker\'s HeaderFunctions', () => {
    const rows = [{ Name: 'web', Image: 'busybox:latest' }, { Name: 'db', Image: 'postgres:16' }];
    const headers = { Name: 'NAMES', Image: 'IMAGE' };
    const out = formatRows(rows, headers, ['Name'], 'table {{.Name | upper}}\\t{{.Image | title}}');
    assert.deepEqual(out.split('\n'), ['NAMES     IMAGE', 'WEB       Busybox:Latest', 'DB        Postgres:16']);
    assert.equal(formatRows(rows, headers, ['Name'], '{{.Name}}:{{truncate .Image 3}}'), 'web:bus\ndb:pos');
  });

  it('sprintf pads by characters and complains as Go', () => {
    assert.equal(sprintf('%-4s|%4s|', ['é', 'é']), 'é   |   é|');
    assert.equal(sprintf('%z', [1]), '%!z(int=1)');
    assert.equal(sprintf('%', []), '%!(NOVERB)');
    assert.equal(sprintf('%s', [['a', 1]]), '[a %!s(int=1)]');
  });
});

describe('cli/gotemplate is pure', () => {
  it('imports only its own modules and base/: no files, no processes', async () => {
    const dir = fileURLToPath(new URL('../../../../src/cli/gotemplate/', import.meta.url));
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.ts'))) {
      const text = await readFile(`${dir}${name}`, 'utf8');
      for (const [, spec = ''] of text.matchAll(/(?:from\s+|import\s*\(?\s*)'([^']+)'/g)) {
        assert.match(spec, /^\.\/[a-z-]+\.js$|^\.\.\/\.\.\/base\//, `${name} imports ${spec}`);
      }
    }
  });
});
