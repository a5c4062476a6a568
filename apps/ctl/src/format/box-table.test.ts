import { renderBoxTable } from './box-table';

// Golden outputs copied from Calico's `calicoctl ipam show` documentation.
describe('renderBoxTable', () => {
  it("reproduces the documented `ipam show` table (right-aligned totals, centred headers)", () => {
    const text = renderBoxTable(
      [{ header: 'GROUPING' }, { header: 'CIDR' }, { header: 'IPS TOTAL', align: 'right' }, { header: 'IPS IN USE' }, { header: 'IPS FREE' }],
      [
        ['IP Pool', '10.65.0.0/16', '65536', '5 (0%)', '65531 (100%)'],
        ['IP Pool', 'fd5f:abcd:64::/48', '1.2089e+24', '7 (0%)', '1.2089e+24 (100%)'],
      ],
    );
    expect(text).toBe(
      [
        '+----------+-------------------+------------+------------+-------------------+',
        '| GROUPING |       CIDR        | IPS TOTAL  | IPS IN USE |     IPS FREE      |',
        '+----------+-------------------+------------+------------+-------------------+',
        '| IP Pool  | 10.65.0.0/16      |      65536 | 5 (0%)     | 65531 (100%)      |',
        '| IP Pool  | fd5f:abcd:64::/48 | 1.2089e+24 | 7 (0%)     | 1.2089e+24 (100%) |',
        '+----------+-------------------+------------+------------+-------------------+',
        '',
      ].join('\n'),
    );
  });

  it('reproduces the documented `ipam show --show-configuration` table', () => {
    const text = renderBoxTable([{ header: 'PROPERTY' }, { header: 'VALUE' }], [
      ['StrictAffinity', 'false'],
      ['AutoAllocateBlocks', 'true'],
    ]);
    expect(text).toBe(
      [
        '+--------------------+-------+',
        '|      PROPERTY      | VALUE |',
        '+--------------------+-------+',
        '| StrictAffinity     | false |',
        '| AutoAllocateBlocks | true  |',
        '+--------------------+-------+',
        '',
      ].join('\n'),
    );
  });

  it('prints only the header between borders when there are no rows', () => {
    expect(renderBoxTable([{ header: 'IP' }, { header: 'BLOCK' }], [])).toBe('+----+-------+\n| IP | BLOCK |\n+----+-------+\n+----+-------+\n');
  });

  it('fills missing cells with spaces', () => {
    expect(renderBoxTable([{ header: 'A' }, { header: 'B' }], [['x']])).toContain('| x |   |');
  });
});
