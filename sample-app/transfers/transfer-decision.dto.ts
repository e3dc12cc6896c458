import { IsInt, IsNotEmpty, IsOptional, IsString, MaxLength, Min } from 'class-validator';

/** Body of `POST /transfers/:id/approve` and `POST /transfers/:id/reject`. */
export class TransferDecisionDto {
  /** Who decides (a name or an email); recorded in the workflow's history. */
  @IsString()
  @IsNotEmpty({ message: 'by must name who decides' })
  @MaxLength(100)
  by: string;
}

/** Optional body of `POST /transfers/:id/cancel`. */
export class CancelTransferDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string;
}

/** Body of `POST /transfers/:id/approval-limit`. */
export class ApprovalLimitDto {
  /** The new approval limit of this transfer (a whole amount, at least 1). */
  @IsInt()
  @Min(1)
  limit: number;
}
