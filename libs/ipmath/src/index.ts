export {
  bitsOf,
  compareIps,
  formatIp,
  ipEquals,
  ipFromValue,
  IpParseError,
  maxValue,
  parseIp,
  tryParseIp,
} from './address';
export type { IpAddress, IpVersion } from './address';
export {
  cidrContains,
  cidrContainsCidr,
  cidrEquals,
  cidrFromAddress,
  cidrSize,
  cidrsOverlap,
  compareCidrs,
  firstAddress,
  formatCidr,
  lastAddress,
  overlapsLinkLocal,
  parseCidr,
  parseCidrDetailed,
  tryParseCidr,
} from './cidr';
export type { Cidr, ParsedCidr } from './cidr';
export { addressAt, blockAt, blockCidrFor, blockCount, blockIndex, blockLength, carveBlocks, ordinalOf } from './block';
