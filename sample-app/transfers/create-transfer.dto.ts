import { IsInt, IsOptional, IsPositive, Matches, Max, Min } from 'class-validator';

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Body of `POST /transfers`. */
export class CreateTransferDto {
  @Matches(ACCOUNT_ID, { message: 'from must be an account id (1 to 64 letters, digits, _ or -)' })
  from: string;

  @Matches(ACCOUNT_ID, { message: 'to must be an account id (1 to 64 letters, digits, _ or -)' })
  to: string;

  /** Whole units (for example cents), more than zero. */
  @IsInt()
  @IsPositive()
  @Max(Number.MAX_SAFE_INTEGER)
  amount: number;

  /** Failure injection: the deposit fails its first N attempts (5 or more: fails for good, then refund). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  failDeposit?: number;
}
