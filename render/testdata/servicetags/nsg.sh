az network nsg rule create --name Allow-AzureBackup-Outbound-443
