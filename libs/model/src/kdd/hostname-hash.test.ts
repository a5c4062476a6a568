import { calicoHostnameHash } from './hostname-hash';

// Expected values from Python's hashlib.sha3_256 and base64.b32encode (padding removed),
// an implementation independent of this one.
describe('calicoHostnameHash', () => {
  it.each([
    ['node-1', 'A3XPYDATRKB7Q4SM2O5FN4RXIHBFIL2PITFX26BAIP5XAB2X74CA'],
    ['worker-a.example.com', 'QVXM2AH7HHA6S7GEO3SIIRSU3BSV4BX4GIK4OJAXV7OHPFIHZZ4A'],
    ['', 'U774N6F7D3LWMUOBI5LKAYOWML2YB72N4Q5UT6UC3AFEXAHYINFA'],
  ])('hashes %j as Calico labels it', (node, label) => {
    expect(calicoHostnameHash(node)).toBe(label);
  });
});
