// Sizes worded as Docker's go-units words them (HumanSize, BytesSize), with Go's "%g".

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's fmt "%.<precision>g": shortest of fixed or exponent form, trailing zeros dropped. */
export function goFormatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const text = value.toPrecision(precision);
  const [mantissa = text, exponent] = text.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  if (exponent === undefined) return trimmed;
  const exp = Number(exponent);
  if (exp >= -4 && exp < precision) return trimmed;
  return `${trimmed}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function scaled(bytes: number, base: number, units: string[], precision: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= base && unit < units.length - 1) {
    size /= base;
    unit++;
  }
  return `${goFormatG(size, precision)}${units[unit] ?? 'B'}`;
}

/** go-units HumanSizeWithPrecision: decimal units, `precision` significant digits ("1.98MB", "4.1kB", "0B"). */
export function humanSize(bytes: number, precision = 3): string {
  return scaled(bytes, 1000, DECIMAL_UNITS, precision);
}

/** go-units BytesSize: binary units, 4 significant digits ("1.5MiB", "32MiB", "7.667GiB"). */
export function bytesSize(bytes: number): string {
  return scaled(bytes, 1024, BINARY_UNITS, 4);
}
