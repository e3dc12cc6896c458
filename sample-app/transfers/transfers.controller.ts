import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CreateTransferDto } from './create-transfer.dto.js';
import { ApprovalLimitDto, CancelTransferDto, TransferDecisionDto } from './transfer-decision.dto.js';
import type { TransferStatus } from './transfer-status.js';
import type { TransferProgress } from './transfer.types.js';
import { TransfersService, type TransferRequestAccepted } from './transfers.service.js';

/**
 * `POST /transfers` starts a transfer; `GET /transfers/:id` follows it and `GET .../stage` says
 * where it is; `POST .../approve`, `.../reject` and `.../cancel` answer 202: the request is
 * recorded in the workflow's history and the workflow acts on it (follow with `GET`).
 * `POST .../approval-limit` is an update: it answers once the workflow has applied it (200,
 * with where the transfer now stands) or refused it (409, nothing recorded).
 */
@Controller('transfers')
export class TransfersController {
  constructor(private readonly transfers: TransfersService) {}

  @Post()
  start(@Body() body: CreateTransferDto): Promise<{ transferId: string; workflowId: string }> {
    return this.transfers.start(body);
  }

  @Get(':id')
  status(@Param('id') id: string): Promise<TransferStatus> {
    return this.transfers.status(id);
  }

  @Get(':id/stage')
  stage(@Param('id') id: string): Promise<TransferProgress & { transferId: string; workflowId: string }> {
    return this.transfers.progress(id);
  }

  @Post(':id/approve')
  @HttpCode(202)
  approve(@Param('id') id: string, @Body() body: TransferDecisionDto): Promise<TransferRequestAccepted> {
    return this.transfers.decide(id, 'approve', body.by);
  }

  @Post(':id/reject')
  @HttpCode(202)
  reject(@Param('id') id: string, @Body() body: TransferDecisionDto): Promise<TransferRequestAccepted> {
    return this.transfers.decide(id, 'reject', body.by);
  }

  @Post(':id/approval-limit')
  @HttpCode(200)
  changeApprovalLimit(
    @Param('id') id: string,
    @Body() body: ApprovalLimitDto,
  ): Promise<TransferProgress & { transferId: string; workflowId: string }> {
    return this.transfers.changeApprovalLimit(id, body.limit);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Param('id') id: string, @Body() body: CancelTransferDto): Promise<TransferRequestAccepted> {
    return this.transfers.cancel(id, body?.reason);
  }
}
