/**
 * The form of an AWS region name (`us-east-1`, `us-gov-west-1`, `eusc-de-east-1`): read by the
 * controller for `--aws-region` and by the AWS provider for its `region` setting, so both accept the same
 * names. SDK-free, so `src/` may import it.
 *
 * @module
 */

/** A partition prefix of two to four letters, words joined by `-`, and a number. */
export const AWS_REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+)+-\d+$/;

/** Whether `value` has the form of an AWS region name. */
export function isAwsRegionName(value: string): boolean {
  return AWS_REGION_PATTERN.test(value);
}
