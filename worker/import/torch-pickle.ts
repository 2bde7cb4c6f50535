/**
 * A bounded unpickler for the `data.pkl` that `torch.save` writes (pickle protocol 2).
 *
 * Why not the `pickleparser` package: it can resolve persistent ids, but it calls whatever
 * value sits on the stack when it meets REDUCE/NEWOBJ/BUILD (`func(...args)`,
 * `Reflect.construct`, `obj.__setstate__`), returns `undefined` on stack underflow instead of
 * failing, throws untyped errors, and its typings are `any` throughout. A torch checkpoint
 * uses a handful of opcodes, so a small interpreter that executes nothing, whitelists the
 * three callables torch needs and fails with a FormatError naming the byte offset is both
 * safer and simpler.
 *
 * Nothing here allocates more than a constant factor of the pickle's own length: every
 * value pushed costs at least one opcode byte, and every length is checked against the
 * bytes that remain.
 */
import { FormatError } from '../errors.ts';
import { PyGlobal, PyObject, call, persistentLoad, type PyValue } from './torch-objects.ts';

export * from './torch-objects.ts';

const MAX_LONG_BYTES = 1024;

class Reader {
  pos = 0;
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw FormatError.checkpoint('data.pkl', `${what} at byte ${this.pos} needs ${n} bytes, ${this.bytes.length - this.pos} remain (truncated or corrupt)`);
    }
  }

  u8(): number {
    this.need(1, 'opcode argument');
    return this.bytes[this.pos++];
  }

  u16(): number {
    this.need(2, 'uint16');
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  i32(): number {
    this.need(4, 'int32');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u32(): number {
    this.need(4, 'uint32');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64be(): number {
    this.need(8, 'float64');
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  line(what: string): string {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0 || nl - this.pos > 4096) throw FormatError.checkpoint('data.pkl', `${what} at byte ${this.pos}: expected a newline-terminated name`);
    const s = latin1(this.bytes.subarray(this.pos, nl));
    this.pos = nl + 1;
    return s;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function decodeUtf8(b: Uint8Array, at: number): string {
  try {
    return utf8.decode(b);
  } catch (e) {
    throw FormatError.checkpoint('data.pkl', `invalid UTF-8 string at byte ${at}`, e);
  }
}

/** Little-endian two's-complement integer (LONG1/LONG4 payload). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function unpickle(bytes: Uint8Array): PyValue {
  const r = new Reader(bytes);
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  const bad = (msg: string, at: number): FormatError => FormatError.checkpoint('data.pkl', `${msg} at byte ${at}`);
  const pop = (at: number): PyValue => {
    if (stack.length === 0) throw bad('stack underflow', at);
    return stack.pop() as PyValue;
  };
  const top = (at: number): PyValue => {
    if (stack.length === 0) throw bad('stack underflow', at);
    return stack[stack.length - 1];
  };
  const popMark = (at: number): PyValue[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) throw bad('no mark on the stack', at);
    stack = prev;
    return items;
  };
  const put = (index: number, at: number): void => {
    if (!Number.isInteger(index) || index < 0) throw bad('bad memo index', at);
    memo.set(index, top(at));
  };
  const get = (index: number, at: number): void => {
    if (!memo.has(index)) throw bad(`memo ${index} undefined`, at);
    stack.push(memo.get(index) as PyValue);
  };
  const setItems = (dict: PyValue, items: PyValue[], at: number): void => {
    if (!(dict instanceof Map)) throw bad('SETITEM(S) on a non-dict', at);
    if (items.length % 2 !== 0) throw bad('odd number of dict items', at);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const append = (list: PyValue, items: PyValue[], at: number): void => {
    if (!Array.isArray(list)) throw bad('APPEND(S) on a non-list', at);
    for (const it of items) list.push(it);
  };

  for (;;) {
    const at = r.pos;
    if (at >= bytes.length) throw bad('missing STOP opcode (truncated pickle)', at);
    const op = bytes[r.pos++];
    switch (op) {
      case 0x80: {
        const proto = r.u8();
        if (proto > 5) throw bad(`unsupported pickle protocol ${proto}`, at);
        break;
      }
      case 0x95: // FRAME: length is advisory
        r.take(8, 'FRAME');
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) throw bad(`STOP with ${stack.length} values and ${marks.length} marks on the stack`, at);
        return pop(at);
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP: as in CPython, popping an empty frame drops its mark
        if (stack.length > 0) stack.pop();
        else popMark(at);
        break;
      case 0x31: // POP_MARK
        popMark(at);
        break;
      case 0x32: // DUP
        stack.push(top(at));
        break;
      case 0x70: // PUT
        put(Number.parseInt(r.line('PUT'), 10), at);
        break;
      case 0x71:
        put(r.u8(), at);
        break;
      case 0x72:
        put(r.u32(), at);
        break;
      case 0x94: // MEMOIZE
        put(memo.size, at);
        break;
      case 0x67: // GET
        get(Number.parseInt(r.line('GET'), 10), at);
        break;
      case 0x68:
        get(r.u8(), at);
        break;
      case 0x6a:
        get(r.u32(), at);
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        stack.push(r.i32());
        break;
      case 0x4b:
        stack.push(r.u8());
        break;
      case 0x4d:
        stack.push(r.u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(r.take(r.u8(), 'LONG1')));
        break;
      case 0x8b: {
        const n = r.i32();
        if (n < 0 || n > MAX_LONG_BYTES) throw bad(`LONG4 of ${n} bytes`, at);
        stack.push(decodeLong(r.take(n, 'LONG4')));
        break;
      }
      case 0x47:
        stack.push(r.f64be());
        break;
      case 0x58: {
        const n = r.u32();
        stack.push(decodeUtf8(r.take(n, 'BINUNICODE'), at));
        break;
      }
      case 0x8c:
        stack.push(decodeUtf8(r.take(r.u8(), 'SHORT_BINUNICODE'), at));
        break;
      case 0x54: {
        const n = r.i32();
        stack.push(latin1(r.take(n, 'BINSTRING')));
        break;
      }
      case 0x55:
        stack.push(latin1(r.take(r.u8(), 'SHORT_BINSTRING')));
        break;
      case 0x42:
        stack.push(r.take(r.u32(), 'BINBYTES').slice());
        break;
      case 0x43:
        stack.push(r.take(r.u8(), 'SHORT_BINBYTES').slice());
        break;
      case 0x29:
        stack.push([]);
        break;
      case 0x74:
      case 0x6c: // TUPLE, LIST
        {
          const items = popMark(at);
          stack.push(items);
        }
        break;
      case 0x85:
        stack.push([pop(at)]);
        break;
      case 0x86: {
        const b = pop(at);
        stack.push([pop(at), b]);
        break;
      }
      case 0x87: {
        const c = pop(at);
        const b = pop(at);
        stack.push([pop(at), b, c]);
        break;
      }
      case 0x5d:
        stack.push([]);
        break;
      case 0x61: {
        const v = pop(at);
        append(top(at), [v], at);
        break;
      }
      case 0x65: {
        const items = popMark(at);
        append(top(at), items, at);
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break;
      case 0x64: {
        const d = new Map<PyValue, PyValue>();
        setItems(d, popMark(at), at);
        stack.push(d);
        break;
      }
      case 0x73: {
        const v = pop(at);
        const k = pop(at);
        setItems(top(at), [k, v], at);
        break;
      }
      case 0x75: {
        const items = popMark(at);
        setItems(top(at), items, at);
        break;
      }
      case 0x8f:
        stack.push([]);
        break;
      case 0x90: {
        const items = popMark(at);
        append(top(at), items, at);
        break;
      }
      case 0x91:
        {
          const items = popMark(at);
          stack.push(items);
        }
        break;
      case 0x63: {
        const module = r.line('GLOBAL');
        stack.push(new PyGlobal(module, r.line('GLOBAL')));
        break;
      }
      case 0x93: {
        const name = pop(at);
        const module = pop(at);
        if (typeof name !== 'string' || typeof module !== 'string') throw bad('STACK_GLOBAL needs two strings', at);
        stack.push(new PyGlobal(module, name));
        break;
      }
      case 0x52: {
        const args = pop(at);
        const fn = pop(at);
        stack.push(call(fn, args, at));
        break;
      }
      case 0x81: {
        const args = pop(at);
        const cls = pop(at);
        if (!Array.isArray(args)) throw bad('NEWOBJ needs an argument tuple', at);
        stack.push(new PyObject(cls, args));
        break;
      }
      case 0x92: {
        pop(at); // kwargs
        const args = pop(at);
        const cls = pop(at);
        if (!Array.isArray(args)) throw bad('NEWOBJ_EX needs an argument tuple', at);
        stack.push(new PyObject(cls, args));
        break;
      }
      case 0x62: {
        const state = pop(at);
        const obj = top(at);
        // Only opaque objects keep state; an OrderedDict's state is its `_metadata`, unused here.
        if (obj instanceof PyObject) obj.state = state;
        break;
      }
      case 0x51:
        stack.push(persistentLoad(pop(at), at));
        break;
      default:
        throw bad(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`, at);
    }
  }
}
