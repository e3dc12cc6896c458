import { IsInt, Matches, Max, Min } from 'class-validator';

/** Body of `POST /accounts`. */
export class CreateAccountDto {
  /** Letters, digits, `_` and `-`, at most 64. */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'id must be 1 to 64 letters, digits, _ or -' })
  id: string;

  /** Opening balance in whole units (for example cents). */
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  balance: number;
}
